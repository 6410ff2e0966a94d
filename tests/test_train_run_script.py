"""training/run.sh: which stages `start` resumes, and with how many threads."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Stands in for Python: runs `-c` snippets (run.sh reads the recorded step with one), and records
# every other call (a trainer launch) with its thread count instead of training.
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-c" ]; then exec {python} "$@"; fi
echo "OMP_NUM_THREADS=$OMP_NUM_THREADS $*" >> {calls}
"""


def _stage_dir(work: Path, stage: str, steps: int) -> None:
    (work / stage).mkdir(parents=True)
    config = {"training_data": {"runs": {stage: {"steps": steps}}}}
    (work / stage / "config.json").write_text(json.dumps(config))


def _start(tmp_path: Path, global_steps: int, local_steps: int, **env_extra: str) -> tuple[str, list[str]]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "split.json").write_text("{}")
    work = tmp_path / "work"
    _stage_dir(work, "global", global_steps)
    _stage_dir(work, "local", local_steps)
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON.format(python=sys.executable, calls=calls))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    schedule = {"LODGE_TRAIN_STEPS": "1000", "LODGE_GLOBAL_STEPS": "1000", "LODGE_WINDOW_OFFSETS": "0"}
    env = {**os.environ, "PYTHON": str(fake), "LODGE_TRAIN_WORK": str(work), **schedule, **env_extra}
    for name, value in env_extra.items():  # "" stands for "not set": run.sh's own default
        if value == "":
            del env[name]
    out = subprocess.run(["bash", str(ROOT / "training" / "run.sh"), "start", str(corpus)], env=env,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    for pid_file in work.glob("*.pid"):  # the fake trainers exit at once; wait for their records
        subprocess.run(["bash", "-c", f"while kill -0 $(cat {pid_file}) 2>/dev/null; do sleep 0.1; done"], timeout=30)
    return out, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_both_stages_start_with_a_core_each(tmp_path):
    out, calls = _start(tmp_path, 400, 300)
    assert sorted(c.split()[4] for c in calls) == ["global", "local"]  # "-m lodge train STAGE"
    assert all(c.startswith("OMP_NUM_THREADS=1 ") for c in calls) and "not started" not in out


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_a_finished_stage_stays_stopped_and_the_other_gets_both_cores(tmp_path):
    out, calls = _start(tmp_path, 1000, 300)
    assert "global: its 1000-step schedule is done" in out
    assert len(calls) == 1 and calls[0].startswith("OMP_NUM_THREADS=2 -m lodge train local ")


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_one_stages_schedule_extends_and_the_global_stage_takes_window_offsets(tmp_path):
    out, calls = _start(tmp_path, 1000, 300, LODGE_GLOBAL_STEPS="2000", LODGE_WINDOW_OFFSETS="1")
    by_stage = {c.split()[4]: c for c in calls}
    assert sorted(by_stage) == ["global", "local"] and "not started" not in out
    assert "--steps 2000 " in by_stage["global"] and "--window-offsets" in by_stage["global"]
    assert "--steps 1000 " in by_stage["local"] and "--window-offsets" not in by_stage["local"]


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_by_default_the_global_schedule_runs_past_the_local_one_with_window_offsets(tmp_path):
    out, calls = _start(tmp_path, 200000, 150000, LODGE_TRAIN_STEPS="", LODGE_GLOBAL_STEPS="", LODGE_WINDOW_OFFSETS="")
    by_stage = {c.split()[4]: c for c in calls}
    assert sorted(by_stage) == ["global", "local"] and "not started" not in out
    assert "--steps 240000 " in by_stage["global"] and "--window-offsets" in by_stage["global"]
    assert "--steps 200000 " in by_stage["local"] and "--window-offsets" not in by_stage["local"]
