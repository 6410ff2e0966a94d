"""Training throughput: the per-frame `cpu` preset's training step against the patched `cpu_patched`
step, both stages, on the same batch of real corpus windows, in one run.

Prints samples x frames per second of each stage and configuration (local: 256-frame segments; global:
1024-frame windows), and as its last line the overall speedup: the time to train one local segment and
one global window with the old step, divided by the same with the new one.

    python benchmarks/bench_train.py --data corpus [--threads 2] [--repeats 5]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lodge.constants import GLOBAL_LEN, SEG_LEN  # noqa: E402
from lodge.train.trainer import Trainer, TrainSettings  # noqa: E402

# name -> (preset, batch size, share of the batch with forward-kinematics losses): today's step and the new one.
CONFIGS = {"old (cpu, batch 16)": ("cpu", 16, 1.0), "new (cpu_patched, batch 64, FK on half)": ("cpu_patched", 64, 0.5)}


def _slice_batch(batch: tuple, size: int) -> tuple:
    return tuple(x[:size] for x in batch)


def time_steps(trainer: Trainer, batch: tuple, repeats: int) -> float:
    """Median seconds of one optimisation step on `batch` (after one warm-up step)."""
    trainer.train_step(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        trainer.train_step(batch)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="corpus", help="a built corpus (python -m lodge.data.build_corpus)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, {torch.backends.cpu.get_cpu_capability()}")

    max_batch = max(b for _, b, _ in CONFIGS.values())
    seconds_per_sample: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        batches: dict[str, tuple] = {}
        for stage, frames in (("local", SEG_LEN), ("global", GLOBAL_LEN)):
            for name, (preset, batch_size, fk_fraction) in CONFIGS.items():
                settings = TrainSettings(stage=stage, data=args.data, out=str(Path(tmp, preset, stage)), preset=preset,
                                         batch_size=max_batch, disc_start=0, seed=0, device="cpu", fk_fraction=fk_fraction)
                trainer = Trainer(settings, log=lambda _msg: None)
                # One draw of real windows, shared by both configurations (the larger batch is a superset).
                batches.setdefault(stage, trainer.next_batch())
                step = time_steps(trainer, _slice_batch(batches[stage], batch_size), args.repeats)
                rate = batch_size * frames / step
                seconds_per_sample[name] = seconds_per_sample.get(name, 0.0) + step / batch_size
                print(f"{stage:>6}  {name:<40} {step * 1000:8.0f} ms/step  {rate:9.0f} samples x frames / s")
    old, new = (seconds_per_sample[name] for name in CONFIGS)
    print(f"one local segment + one global window: old {old * 1000:.0f} ms, new {new * 1000:.0f} ms")
    print(f"speedup: {old / new:.1f}")


if __name__ == "__main__":
    main()
