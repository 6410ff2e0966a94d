"""Time one app request per setting on this machine (the numbers in Spaces.md come from here).

    python benchmarks/bench_app.py --music examples/hiphop_basement_tape_95bpm.mp3 [--checkpoint DIR]

Prints one Markdown table row per setting: seconds in music analysis, global and local diffusion,
rendering (+ downloads) and in all. DDPM is measured on a few steps and extrapolated to the full
chain per step (each DDPM step costs what a DDIM step costs).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

os.environ.setdefault("PYOPENGL_PLATFORM", "egl")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    from lodge_app.options import Options
    from lodge_app.studio import Studio
    from lodge_app.settings import AppSettings

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--music", type=Path, required=True)
    p.add_argument("--checkpoint", type=Path, default=None)
    p.add_argument("--device", default=None)
    p.add_argument("--seconds", type=float, default=None, help="use only the first N seconds")
    p.add_argument("--sizes", default="384,512", help="video sizes to time (comma-separated)")
    p.add_argument("--steps", type=int, default=50)
    args = p.parse_args(argv)

    studio = Studio.load(AppSettings(checkpoint=args.checkpoint, device=args.device, calibrate=True))
    if not studio.ready:
        raise SystemExit(studio.load_error)
    genre = studio.genres[0]
    print(f"device: {studio.device}; genre {genre}; music {args.music.name}")
    print("| setting | music s | global s | local s | render s | total s |")
    print("|---|---|---|---|---|---|")
    ddim_per_step = None
    for size in [int(s) for s in args.sizes.split(",") if s]:
        opts = Options(genre=genre, duration=args.seconds, steps=args.steps, video_size=size)
        t = studio.generate(args.music, opts).timings
        print(f"| DDIM {args.steps} steps, {size} px, 30 fps | {t['music']:.1f} | {t['global']:.1f} | "
              f"{t['local']:.1f} | {t['render']:.1f} | {t['total']:.1f} |", flush=True)
        ddim_per_step = (t["global"] + t["local"]) / args.steps
    if ddim_per_step is not None:
        ddpm = ddim_per_step * studio.estimator.ddpm_steps
        print(f"| DDPM {studio.estimator.ddpm_steps} steps (extrapolated) | | | | | diffusion ~{ddpm:.0f} |")


if __name__ == "__main__":
    main()
