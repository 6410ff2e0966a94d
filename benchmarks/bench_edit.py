"""An edit against a fresh generation: time to regenerate one segment of a ~3-minute dance.

Usage: python benchmarks/bench_edit.py [--seconds 180] [--song examples/X.mp3] [--steps 50] [--device cpu|cuda]
       [--checkpoint DIR] [--repeats 1]

Loops an example song to ``--seconds``, analyses it once (not timed), then times in the same run, on
the motion only: a fresh generation (global stage, every segment, post-processing), a one-segment
reroll (same primitives, new transitions), a one-segment reroll with new moves (global stage for that
segment's window too) and a copy of a move. Prints each and its ratio to the fresh generation. The
video is rendered by the app (or ``python -m renderer``), for the whole dance, after either; it is not
timed here (``bench_render.py`` times rendering).
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install needed

from lodge.audio import load_audio, music_features  # noqa: E402
from lodge.constants import SAMPLE_RATE, SEG_LEN  # noqa: E402
from lodge.pipeline import LodgePipeline  # noqa: E402

import torch  # noqa: E402  (after lodge, which sets OMP_WAIT_POLICY before torch loads)

ROOT = Path(__file__).resolve().parents[1]


def _timed(pipe: LodgePipeline, call, repeats: int):
    """(median seconds, last result) of ``call()``."""
    times, out = [], None
    for _ in range(repeats):
        if pipe.device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = call()
        if pipe.device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="song length (the example is looped)")
    parser.add_argument("--song", default=str(ROOT / "examples" / "salsa_clave_del_puerto_180bpm.mp3"))
    parser.add_argument("--genre", default="salsa")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the sampler's)")
    parser.add_argument("--checkpoint", default=None, help="default: the shipped weights")
    parser.add_argument("--device", default=None)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    pipe = LodgePipeline.from_pretrained(args.checkpoint, device=args.device)
    wave = load_audio(args.song, max_seconds=None)
    n = int(args.seconds * SAMPLE_RATE)
    features = music_features(np.tile(wave, int(np.ceil(n / len(wave))))[:n])
    name = torch.cuda.get_device_name() if pipe.device == "cuda" else \
        f"{platform.processor() or 'cpu'} x{torch.get_num_threads()} threads"
    opts = pipe.resolve_options(steps=args.steps, max_seconds=None)
    print(f"song {args.seconds:.0f} s ({Path(args.song).name}, looped), {-(-features.num_frames // SEG_LEN)} segments; "
          f"device {pipe.device} ({name}); {opts.sampler} {opts.steps} steps")

    warm = pipe(features, args.genre, opts.replace(steps=1))  # warm-up at these shapes (allocations, kernels)
    pipe.reroll(warm, [0], seed=1, new_moves=True)
    segment = (features.num_frames // SEG_LEN) // 2  # one in the middle: neighbours on both sides
    fresh, dance = _timed(pipe, lambda: pipe(features, args.genre, opts), args.repeats)
    middle = (segment * SEG_LEN + SEG_LEN / 2) / 30.0
    rows = [
        ("fresh generation", fresh),
        (f"reroll segment {segment}", _timed(pipe, lambda: pipe.reroll(dance, [segment], seed=1), args.repeats)[0]),
        (f"reroll segment {segment}, new moves",
         _timed(pipe, lambda: pipe.reroll(dance, [segment], seed=1, new_moves=True), args.repeats)[0]),
        ("copy a move into it", _timed(pipe, lambda: pipe.copy_move(dance, 5.0, middle, seed=1), args.repeats)[0]),
    ]
    print(f"{'motion only':<32} {'seconds':>8} {'x fresh':>8}")
    for label, seconds in rows:
        print(f"{label:<32} {seconds:8.2f} {seconds / fresh:8.3f}")
    print("(the video is rendered by the app for the whole dance after a generation or an edit; not timed here)")


if __name__ == "__main__":
    main()
