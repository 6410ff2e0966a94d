"""How far the generated dancer travels over the floor, against the real dancers of its genre.

    python benchmarks/root_travel.py --data CORPUS [--checkpoint DIR ...] [--genres breaking salsa ...]
        [--items 3] [--seed 0]

The realism table measures the body relative to the pelvis, so it cannot see a dancer who wobbles or
slides across the floor. This script measures the pelvis' horizontal path (mm per frame at 30 fps) of
the first ``--items`` test items of each genre, danced to their own music (default settings, whole
length), beside the test items' real dances:

- ``travel``: the mean length of the pelvis' horizontal step;
- ``slow``: the same after a Gaussian of 8 frames over time, i.e. the travel slower than about 1 Hz.
  Real travel is nearly all slow (the CMU breakers keep about 80 % of it), so ``travel`` far above
  ``slow`` is a wobble;
- ``no lock``: the generated travel with the foot lock off (:mod:`lodge.post.footlock` moves the body
  so that a planted foot stays put, which turns leg motion into travel).

Several ``--checkpoint`` give one row each, so that a candidate is compared with a baseline in one
run; without one the shipped default is used. A diagnostic, not a bar.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install needed
sys.path.insert(0, str(Path(__file__).resolve().parent))

from checkpoint_rows import parse_args, split_and_pipelines  # noqa: E402

from lodge.evaluate.data import features_from_music, item_joints  # noqa: E402
from lodge.sampling import SamplingOptions  # noqa: E402

SLOW_SIGMA = 8.0  # frames: -3 dB near 0.7 Hz


def pelvis_travel(joints: np.ndarray, sigma: float = 0.0) -> float:
    """Mean horizontal step of the pelvis (m per frame) of (T, 22, 3) joints, after a Gaussian of
    ``sigma`` frames over time when ``sigma`` > 0."""
    path = np.asarray(joints[:, 0, [0, 2]], np.float64)
    if sigma > 0:
        path = gaussian_filter1d(path, sigma, axis=0, mode="nearest")
    return float(np.linalg.norm(np.diff(path, axis=0), axis=-1).mean()) if len(path) > 1 else 0.0


def main() -> None:
    args = parse_args(__doc__.split("\n")[0])
    items, genres, pipes = split_and_pipelines(args)
    print("genre     checkpoint                         travel (mm/frame)   slow (mm/frame)   no lock   travel ratio")
    for genre in genres:
        chosen = [it for it in items if it.genre == genre][: args.items]
        if not chosen:
            print(f"{genre:9s} no test items")
            continue
        real = [item_joints(it) for it in chosen]
        real_travel = np.mean([pelvis_travel(j) for j in real])
        real_slow = np.mean([pelvis_travel(j, SLOW_SIGMA) for j in real])
        print(f"{genre:9s} {'real dancers':34s} {1000 * real_travel:8.1f}            {1000 * real_slow:8.1f}")
        for path, pipe in pipes.items():
            dances = [pipe(features_from_music(it.music), genre, SamplingOptions(seed=args.seed, max_seconds=None)).joints
                      for it in chosen]
            unlocked = [pipe(features_from_music(it.music), genre,
                             SamplingOptions(seed=args.seed, max_seconds=None, foot_lock=False)).joints for it in chosen]
            travel = np.mean([pelvis_travel(j) for j in dances])
            print(f"{genre:9s} {Path(path).name[:34]:34s} {1000 * travel:8.1f}            "
                  f"{1000 * np.mean([pelvis_travel(j, SLOW_SIGMA) for j in dances]):8.1f}       "
                  f"{1000 * np.mean([pelvis_travel(j) for j in unlocked]):6.1f}     {travel / real_travel:5.2f}", flush=True)


if __name__ == "__main__":
    main()
