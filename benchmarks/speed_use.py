"""How much does a speed-conditioned network use the speed it is told? Its x0 error and its answer's
motion on fixed training batches, told the true speed, no speed, half and twice it.

    python benchmarks/speed_use.py --data CORPUS --checkpoint DIR [--stage global|local] [--batches 4]

For each stage whose network has the speed condition (``NetConfig.speed_condition``), four batches of
64 training examples (seed 5) are noised to t = 200, 500 and 800 and denoised by the checkpoint's
networks told each speed. A network that uses the speed has its lowest x0 error with the true one and
moves more when told more (motion: the mean absolute change of its answer from one frame to the next,
normalised units; for the global stage, from each primitive's mean pose). Session 13 found the two
within 1-4 % of each other after 14 500 global and 8 100 local steps with the condition.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

TOLD = {"true": 1.0, "none": float("nan"), "half": 0.5, "double": 2.0}  # factor on the example's speed
NOISE_STEPS = (200, 500, 800)


def summary_lines(stage: str, results: dict[str, tuple[float, float]]) -> list[str]:
    """One line per told speed: x0 error and motion, each also relative to the true speed's."""
    err0, move0 = results["true"]
    return [f"{stage:6s} told {name:6s}: x0 error {err:.5f} ({err / err0:.3f} x true), "
            f"motion {move:.5f} ({move / move0:.3f} x true)" for name, (err, move) in results.items()]


def probe(stage: str, checkpoint: Path, data: str, batches: int) -> dict[str, tuple[float, float]]:
    """Mean (x0 error, motion) of the checkpoint's ``stage`` network told each speed of :data:`TOLD`."""
    import torch

    from lodge.primitives import PrimitivePlan
    from lodge.train.trainer import Trainer, TrainSettings

    with tempfile.TemporaryDirectory() as tmp:
        for name in ("config.json", "global.safetensors", "local.safetensors"):
            shutil.copy(checkpoint / name, tmp)
        trainer = Trainer(TrainSettings(stage=stage, data=data, out=tmp, batch_size=64, speed_drop_prob=0.0, seed=5),
                          log=lambda _m: None)
        net = trainer.ema
        if net.speed_in is None:
            raise SystemExit(f"the {stage} network of {checkpoint} is not told a speed")
        torch.manual_seed(0)
        scores: dict[str, list[tuple[float, float]]] = {name: [] for name in TOLD}
        with torch.no_grad():
            for _ in range(batches):
                batch = trainer.next_batch()
                x0, speed = batch[0], batch[-1]
                for step in NOISE_STEPS:
                    t = torch.full((x0.shape[0],), step, dtype=torch.long)
                    x_t = trainer.diffusion.q_sample(x0, t, torch.randn_like(x0))
                    for name, factor in TOLD.items():
                        told = speed * factor
                        if stage == "global":
                            kinds = torch.as_tensor(PrimitivePlan.prim_kinds()).expand(x0.shape[0], x0.shape[1])
                            pred = net(x_t, t, batch[1], batch[2], batch[3], kinds, speed=told)
                            move = (pred - pred.mean(-2, keepdim=True)).abs().mean()
                        else:
                            pred = net(x_t, t, batch[1], batch[2], speed=told)
                            move = (pred[:, 1:] - pred[:, :-1]).abs().mean()
                        scores[name].append((float(((pred - x0) ** 2).mean()), float(move)))
    return {name: tuple(np.mean(values, axis=0)) for name, values in scores.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a corpus built by lodge.data.build_corpus")
    parser.add_argument("--checkpoint", required=True, help="a checkpoint whose networks are told a speed")
    parser.add_argument("--stage", choices=("global", "local", "both"), default="both")
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args(argv)
    from lodge.checkpoint import load_checkpoint

    cfg = load_checkpoint(args.checkpoint).cfg
    stages = ["global", "local"] if args.stage == "both" else [args.stage]
    stages = [s for s in stages if (cfg.global_ if s == "global" else cfg.local).speed_condition]
    if not stages:
        print(f"no network of {args.checkpoint} is told a speed")
        return 1
    for stage in stages:
        print("\n".join(summary_lines(stage, probe(stage, Path(args.checkpoint), args.data, args.batches))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
