"""How often a generated dance moves faster than the real dancers of its genre ever do.

    python benchmarks/speed_tail.py --data CORPUS [--checkpoint DIR ...] [--genres breaking salsa ...]
        [--items 3] [--seed 0]

The realism table compares mean speeds, which a dance can meet while whipping through a quarter of
a second at several times any real dancer's speed and standing still the rest of the time. This
script looks at the tail instead. For each genre it takes the per-frame body travel of the test
split's real dances (the mean over the 22 joints of each joint's move from one frame to the next,
root included, m per frame) and reports, for each checkpoint danced to the first ``--items`` test
items of the genre (their own music, default settings, whole length):

- the generated 99th percentile and maximum of that travel beside the real ones;
- the share of generated frames above the real 99th percentile (a real dance: 1 %) and above the
  real maximum (a real dance: 0 %).

Several ``--checkpoint`` give one row each, so that a candidate is compared with a baseline in one
run; without one the shipped default is used. A diagnostic, not a bar: the realism table
(`python -m lodge evaluate --realism-only`) is what the project is judged by.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install needed
sys.path.insert(0, str(Path(__file__).resolve().parent))

from checkpoint_rows import parse_args, split_and_pipelines  # noqa: E402

from lodge.evaluate.data import features_from_music, item_joints  # noqa: E402
from lodge.metrics.realism import body_frame_speeds  # noqa: E402
from lodge.sampling import SamplingOptions  # noqa: E402


def frame_travel(joints: np.ndarray) -> np.ndarray:
    """(T - 1,) mean over joints of each joint's move between consecutive frames (m), root included."""
    return body_frame_speeds(joints, fps=1.0)


def main() -> None:
    args = parse_args(__doc__.split("\n")[0])
    items, genres, pipes = split_and_pipelines(args)
    print("genre     checkpoint                       p99 gen / real   max gen / real   > real p99   > real max")
    for genre in genres:
        chosen = [it for it in items if it.genre == genre]
        if not chosen:
            print(f"{genre:9s} no test items")
            continue
        real = np.concatenate([frame_travel(item_joints(it)) for it in chosen])
        real_p99, real_max = np.percentile(real, 99), real.max()
        for path, pipe in pipes.items():
            travel = np.concatenate([
                frame_travel(pipe(features_from_music(it.music), genre,
                                  SamplingOptions(seed=args.seed, max_seconds=None)).joints)
                for it in chosen[: args.items]])
            print(f"{genre:9s} {Path(path).name[:32]:32s} {np.percentile(travel, 99):.3f} / {real_p99:.3f}    "
                  f"{travel.max():.3f} / {real_max:.3f}    {100 * (travel > real_p99).mean():5.1f} %     "
                  f"{100 * (travel > real_max).mean():5.2f} %", flush=True)


if __name__ == "__main__":
    main()
