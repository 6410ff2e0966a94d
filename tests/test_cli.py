"""`python -m lodge` as a user runs it: real subprocesses, exit codes and messages."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "lodge", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_generate_writes_dance_npz(tiny_checkpoint, click_wav, tmp_path):
    res = run("generate", click_wav, "--genre", "modern", "--seed", "2", "--steps", "2", "--seconds", "9",
              "--checkpoint", tiny_checkpoint, "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    with np.load(tmp_path / "dance.npz") as d:
        assert d["motion"].shape == (270, 139) and d["motion"].dtype == np.float32
        assert d["joints"].shape == (270, 22, 3)
        assert int(d["fps"]) == 30 and str(d["genre"]) == "modern"
        assert len(d["beats"]) > 10
        assert len(d["primitive_frames"]) == len(d["primitive_kinds"]) > 0
        assert set(d["primitive_kinds"]) <= {"hard", "soft", "soft_mirror"}
        assert list(d["segment_starts"]) == [0, 256]  # not re-timed (no --beat-sync)


def test_genres_lists_checkpoint_genres(tiny_checkpoint):
    res = run("genres", "--checkpoint", tiny_checkpoint)
    assert res.returncode == 0 and res.stdout.split() == ["salsa", "breaking", "modern"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--genre", "polka"], "Unknown genre 'polka'"),
        (["--genre", "salsa", "--max-seconds", "10"], "over the limit of 10.0 s"),
    ],
)
def test_bad_input_exits_2_with_one_line(tiny_checkpoint, click_wav, tmp_path, extra, message):
    res = run("generate", click_wav, *extra, "--checkpoint", tiny_checkpoint, "--out", tmp_path)
    assert res.returncode == 2
    assert message.lower() in res.stderr.lower() and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_not_audio_and_missing_checkpoint(tiny_checkpoint, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not music")
    res = run("generate", text, "--genre", "salsa", "--checkpoint", tiny_checkpoint, "--out", tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr.startswith("error:")
    res = run("genres", "--checkpoint", tmp_path / "nowhere")
    assert res.returncode == 2 and "not found" in res.stderr
