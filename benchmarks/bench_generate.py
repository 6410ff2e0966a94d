"""Generation time against song length (30 s, 60 s, 3 min) on this machine.

Usage: python benchmarks/bench_generate.py [--checkpoint DIR | --preset NAME] [--steps 50] [--device cpu|cuda]
       [--lengths 30 60 180]

Prints one row per length: music analysis, global stage, local stage and total seconds, and the
real-time factor. Uses a synthetic 120 BPM click-and-tone track so that no file is needed. Without
--checkpoint it uses the shipped default weights, or a random "small"-preset model of the same size
when none are installed (timings depend on the size, not on the weights); --preset times a random model
of that preset (e.g. cpu_patched, the network in training).
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install needed

from lodge.audio import synth_click_track  # noqa: E402
from lodge.checkpoint import create_random_checkpoint  # noqa: E402
from lodge.constants import SAMPLE_RATE  # noqa: E402
from lodge.pipeline import DEFAULT_CHECKPOINT, LodgePipeline  # noqa: E402

import torch  # noqa: E402  (after lodge, which sets OMP_WAIT_POLICY before torch loads)


def _song(seconds: float) -> np.ndarray:
    clicks = synth_click_track(120, seconds)
    t = np.arange(len(clicks)) / SAMPLE_RATE
    melody = 0.1 * np.sin(2 * np.pi * (220 + 110 * (np.floor(t * 2) % 4)) * t)
    return (clicks + melody).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--preset", default=None, help="time a random model of this preset instead")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--sampler", default="ddim")
    parser.add_argument("--device", default=None)
    parser.add_argument("--lengths", type=float, nargs="+", default=[30, 60, 180])
    args = parser.parse_args()
    path = args.checkpoint
    if args.preset:
        path = create_random_checkpoint(Path(tempfile.mkdtemp()) / args.preset, ["a", "b"], preset=args.preset)
    if path is None:
        path = DEFAULT_CHECKPOINT if (DEFAULT_CHECKPOINT / "config.json").exists() else create_random_checkpoint(
            Path(tempfile.mkdtemp()) / "small", ["a", "b"], preset="small")
    pipe = LodgePipeline.from_pretrained(path, device=args.device)
    device = pipe.device
    name = torch.cuda.get_device_name() if device == "cuda" else f"{platform.processor() or 'cpu'} x{torch.get_num_threads()} threads"
    print(f"checkpoint {path}\ndevice {device} ({name}), sampler {args.sampler}, steps {args.steps}")
    pipe(_song(10), pipe.genres[0], steps=2, sampler=args.sampler)  # warm-up
    print(f"{'song s':>7} {'music s':>8} {'global s':>9} {'local s':>8} {'total s':>8} {'x realtime':>10}")
    for seconds in args.lengths:
        wave = _song(seconds)
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        dance = pipe(wave, pipe.genres[0], steps=args.steps, sampler=args.sampler, max_seconds=None)
        total = time.perf_counter() - t0
        tm = dance.timings
        print(f"{seconds:7.0f} {tm['music']:8.2f} {tm['global']:9.2f} {tm['local']:8.2f} {total:8.2f} {seconds / total:10.2f}")


if __name__ == "__main__":
    main()
