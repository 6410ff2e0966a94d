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


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--seconds", "0"], "at least 5 seconds"),
        (["--seconds", "-5"], "at least 5 seconds"),
        (["--seconds", "3"], "at least 5 seconds"),
        (["--seconds", "nan"], "finite number"),
        (["--steps", "0"], "from 1 to 1000"),
        (["--steps", "100000"], "from 1 to 1000"),
        (["--seed", str(2**70)], "from 0 to 4294967295"),
        (["--soft", "inf"], "finite number"),
        (["--seed", "abc"], "invalid int value"),
        (["--checkpoint", "/nonexistent/ckpt"], "checkpoint folder not found"),
    ],
)
def test_every_argument_is_checked_before_any_work(click_wav, tmp_path, capsys, extra, message):
    """Refused at once, before the model is loaded or the music decoded (in-process: `main` itself)."""
    from lodge.cli import main

    try:
        status = main(["generate", str(click_wav), "--genre", "salsa", "--out", str(tmp_path / "out"), *extra])
    except SystemExit as stop:  # argparse's own refusals
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("error:") and message.lower() in err.lower(), err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out" / "dance.npz").exists()


def test_unwritable_out_is_refused_before_any_work(click_wav, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    res = run("generate", click_wav, "--genre", "salsa", "--out", blocker / "sub", timeout=60)
    assert res.returncode == 2 and res.stderr.startswith("error: Cannot write to the output folder"), res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_a_damaged_mp3_gives_one_line_without_decoder_noise(tmp_path, tiny_checkpoint):
    """libmpg123 prints its complaints straight onto stderr; the user sees only our one line."""
    bad = tmp_path / "damaged.mp3"
    bad.write_bytes(b"ID3" + b"\x00" * 7 + bytes(range(256)) * 400)
    res = run("generate", bad, "--genre", "salsa", "--checkpoint", tiny_checkpoint, "--out", tmp_path, timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("error:") and len(res.stderr.strip().splitlines()) == 1, res.stderr
