"""Does the dancer ever get low? Pelvis height above the feet, generated against real, and whether the
global network can even reconstruct a low primitive.

    python benchmarks/floor_poses.py --data CORPUS [--checkpoint DIR ...] [--genre breaking]
        [--items 4] [--windows 3] [--seed 0]

Real breakers spend a quarter of their time with the pelvis less than about 0.65 m above their lowest
foot (crouches, floor work, freezes); the long run's breaker never went below 0.7 m. Two parts, one
row per checkpoint:

1. **Generated.** Every third test item of the genre (``--items`` of them) danced to its own music
   (default settings, whole length): the 5th / 25th / 50th percentile of the pelvis height above the
   lowest foot, over the dance's frames and over its placed primitives' frames, beside the real
   dancer's (its primitives cut where generation would place them).
2. **Reconstructed.** ``--windows`` random 1024-frame windows of each training track of the genre,
   and of each test track, their 13 primitives planned and cut as in training (those past the end
   of the dance left out), noised to t = 100, 500 and 900 and denoised in one step by the global
   network (its music, genre and the window's own speed): the mean pelvis height of its x0
   prediction for the primitives that are really low (under 0.6 m) and for the others. A network
   that predicts low primitives high even at t = 100, where little is hidden, has not learnt them.
   At t = 900 almost all it has is the music: on training music it may know which primitives were
   low, on new music only that some may be, and the sampler has to commit to them.

A diagnostic, not a bar: the realism table (`python -m lodge evaluate --realism-only`) is what the
project is judged by.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install needed

from lodge.audio import normalize_music  # noqa: E402
from lodge.data.dataset import load_corpus  # noqa: E402
from lodge.evaluate.data import features_from_music, item_joints  # noqa: E402
from lodge.evaluate.realism import primitive_joints  # noqa: E402
from lodge.evaluate.realism_reference import real_primitive_joints  # noqa: E402
from lodge.motion import PrimitiveNormalizer, motion_to_joints  # noqa: E402
from lodge.pipeline import DEFAULT_CHECKPOINT, LodgePipeline  # noqa: E402
from lodge.primitives import N_PRIMS, PrimitivePlan  # noqa: E402
from lodge.sampling import SamplingOptions  # noqa: E402
from lodge.constants import FOOT_JOINTS  # noqa: E402
from lodge.train.windows import Track, global_example  # noqa: E402

LOW = 0.6  # m: a primitive whose pelvis stands lower than this above its lowest foot counts as low
NOISE_LEVELS = (100, 500, 900)


def pelvis_height(joints: np.ndarray) -> np.ndarray:
    """(...,) pelvis height above the lowest foot joint of each frame of (..., 22, 3) joints (m)."""
    joints = np.asarray(joints, np.float64)
    return joints[..., 0, 1] - joints[..., list(FOOT_JOINTS), 1].min(-1)


def percentiles(values: list[np.ndarray]) -> str:
    """'p5 / p25 / p50' of the pooled values, or '-' when there are none."""
    if not values:
        return "-"
    return " / ".join(f"{v:.2f}" for v in np.percentile(np.concatenate(values), [5, 25, 50]))


def generated_row(pipe, items, genre: str, seed: int) -> tuple[str, str]:
    """(dance, primitives) percentiles of the pelvis height of ``pipe``'s dances to the items' music."""
    dance, prims = [], []
    for it in items:
        d = pipe(features_from_music(it.music), genre, SamplingOptions(seed=seed, max_seconds=None))
        dance.append(pelvis_height(d.joints))
        placed = primitive_joints(d)
        if placed is not None:
            prims.append(pelvis_height(placed).ravel())
    return percentiles(dance), percentiles(prims)


def reconstruction_row(pipe, tracks: list[Track], genre_id: int, windows: int, seed: int) -> str:
    """'low: t=100 a, t=500 b, t=900 c (real r) | others: ...' for the global network's x0 predictions."""
    rng = np.random.default_rng(seed)
    examples = [global_example(tr, rng, canonical=pipe.cfg.canonical_heading) for tr in tracks for _ in range(windows)]
    prims = torch.as_tensor(np.stack([e[0] for e in examples]))
    music = normalize_music(torch.as_tensor(np.stack([e[1] for e in examples])), pipe.music_mean, pipe.music_std)
    frames = torch.as_tensor(np.stack([e[3] for e in examples]))
    weight = np.stack([e[4] for e in examples]).reshape(-1) > 0
    b = len(examples)
    kinds = torch.as_tensor(PrimitivePlan.prim_kinds()).expand(b, N_PRIMS)
    extra = {"speed": torch.tensor([e[5] for e in examples], dtype=torch.float32)} \
        if getattr(pipe.global_, "speed_in", None) is not None else {}
    space = PrimitiveNormalizer(pipe.normalizer, pipe.cfg.global_.prim_motion_gain)
    x0 = space.normalize(prims)

    def heights(motion) -> np.ndarray:  # mean over each primitive's frames
        joints = motion_to_joints(np.asarray(motion, np.float32))
        return pelvis_height(joints).mean(-1).reshape(-1)

    real = heights(prims.numpy())
    low = (real < LOW) & weight
    high = (real >= LOW) & weight
    if not low.any():
        return f"no training primitive of this genre is below {LOW} m"
    generator = torch.Generator().manual_seed(seed)
    cells = {"low": [], "others": []}
    for t in NOISE_LEVELS:
        tt = torch.full((b,), t)
        x_t = pipe.diffusion.q_sample(x0, tt, torch.randn(x0.shape, generator=generator))
        with torch.no_grad():
            pred = pipe.global_(x_t, tt, music, torch.full((b,), genre_id), frames, kinds,
                                torch.zeros(b, dtype=torch.bool), **extra)
        got = heights(space.denormalize(pred).numpy())
        cells["low"].append(f"t={t} {got[low].mean():.2f}")
        cells["others"].append(f"t={t} {got[high].mean():.2f}")
    return (f"low ({int(low.sum())}): {', '.join(cells['low'])} (real {real[low].mean():.2f}) | "
            f"others: {', '.join(cells['others'])} (real {real[high].mean():.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="a built corpus")
    parser.add_argument("--checkpoint", nargs="+", default=[str(DEFAULT_CHECKPOINT)], help="one row per checkpoint")
    parser.add_argument("--genre", default="breaking")
    parser.add_argument("--items", type=int, default=4, help="test items danced")
    parser.add_argument("--windows", type=int, default=3, help="windows per training track for the reconstruction")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)

    test = [it for it in load_corpus(args.data, "test") if it.genre == args.genre][::3][: args.items]
    train = [it for it in load_corpus(args.data, "train") if it.genre == args.genre]
    if not test or not train:
        sys.exit(f"the corpus has no {'test' if not test else 'training'} items of {args.genre!r}")
    real_dance = [pelvis_height(item_joints(it)) for it in test]
    real_prims = [pelvis_height(p).ravel() for p in (real_primitive_joints(item_joints(it)) for it in test) if len(p)]
    print(f"{args.genre}: pelvis height above the lowest foot, 5th / 25th / 50th percentile (m), {len(test)} test items")
    print(f"{'real':32s} dance {percentiles(real_dance)}   primitives {percentiles(real_prims)}")
    pipes = {path: LodgePipeline.from_pretrained(path, device="cpu") for path in args.checkpoint}
    for path, pipe in pipes.items():
        dance, prims = generated_row(pipe, test, args.genre, args.seed)
        print(f"{Path(path).name[:32]:32s} dance {dance}   primitives {prims}", flush=True)
    print(f"\nThe global network's x0 for real primitives noised to t (mean pelvis height, m), "
          f"{args.windows} windows per track:")
    test_all = [it for it in load_corpus(args.data, "test") if it.genre == args.genre]
    for split, chosen in (("train", train), ("test", test_all)):
        for path, pipe in pipes.items():
            genre_id = pipe.cfg.genre_index(args.genre)
            tracks = [Track.from_arrays(it.motion, it.music, genre_id) for it in chosen]
            print(f"{split:5s} {Path(path).name[:26]:26s} {reconstruction_row(pipe, tracks, genre_id, args.windows, args.seed)}",
                  flush=True)


if __name__ == "__main__":
    main()
