"""benchmarks/floor_poses.py: pelvis height above the feet, and one row per checkpoint on a small corpus."""
import subprocess
import sys
from pathlib import Path

import numpy as np

from fixtures.corpus import sine_dance, write_corpus
from fixtures.benchmarks import load_benchmark

ROOT = Path(__file__).resolve().parents[1]
floor_poses = load_benchmark("floor_poses")


def test_pelvis_height_is_measured_from_the_lowest_foot():
    joints = np.zeros((2, 22, 3))
    joints[:, 0, 1] = [0.9, 0.3]  # standing, then crouched
    joints[:, [7, 8, 10, 11], 1] = [[0.08, 0.1, 0.02, 0.04], [0.1, 0.1, 0.05, 0.3]]
    np.testing.assert_allclose(floor_poses.pelvis_height(joints), [0.88, 0.25])
    assert floor_poses.percentiles([]) == "-"


def test_prints_generated_and_reconstructed_rows(tmp_path, tiny_checkpoint):
    items = [("breaking", sine_dance(300, 2.0, seed=0)), ("breaking", sine_dance(300, 1.5, seed=1))]
    corpus = write_corpus(tmp_path / "corpus", items + items, n_train=2)
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "floor_poses.py"), "--data", str(corpus),
                          "--checkpoint", str(tiny_checkpoint), "--items", "1", "--windows", "1"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    lines = out.splitlines()
    assert lines[0].startswith("breaking: pelvis height") and lines[1].startswith("real")
    assert any(line.startswith("tiny") and "dance" in line for line in lines)
    assert sum(line.startswith(("train ", "test ")) for line in lines) == 2
