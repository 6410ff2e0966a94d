"""python -m renderer DANCE.npz --music SONG --out VIDEO.mp4 [--size 512] [--fps 30|15]
[--body mannequin|smpl|smplx] [--smpl-dir DIR] [--camera follow|fixed] [--antialias] [--glb OUT.glb] [--timeline OUT.png]"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(prog="python -m renderer", description="Render a Lodge dance.npz to video / timeline / GLB.")
    p.add_argument("dance", type=Path, help="dance.npz written by lodge")
    p.add_argument("--music", type=Path, help="audio to put under the video (cut or padded to the dance)")
    p.add_argument("--out", type=Path, help="output .mp4 (H.264 + AAC)")
    p.add_argument("--size", type=int, default=512, help="video width = height in pixels (default 512)")
    p.add_argument("--fps", type=int, default=30, choices=(30, 15), help="30, or 15 to render every other frame")
    p.add_argument("--body", default="mannequin", choices=("mannequin", "smpl", "smplx"))
    p.add_argument("--smpl-dir", type=Path, help="SMPL/SMPL-X model folder (else $LODGE_SMPL_MODEL_DIR)")
    p.add_argument("--camera", default="follow", choices=("follow", "fixed"))
    p.add_argument("--antialias", action="store_true", help="4x multisampling (slower on CPU)")
    p.add_argument("--glb", type=Path, help="also write an animated GLB of the mannequin")
    p.add_argument("--timeline", type=Path, help="also write the timeline PNG")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    from lodge.dance import Dance

    dance = Dance.load_npz(args.dance)
    if not (args.out or args.glb or args.timeline):
        print("nothing to do: give --out, --glb and/or --timeline", file=sys.stderr)
        return 2
    if args.timeline:
        from .timeline import render_timeline

        print(f"timeline: {render_timeline(dance, args.timeline, args.music)}")
    if args.glb:
        from .glb import export_glb

        print(f"glb: {export_glb(dance, args.glb)}")
    if args.out:
        from .video import render_video

        start = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done == total or done % 30 == 0:
                rate = done / max(time.perf_counter() - start, 1e-9)
                print(f"\rframe {done}/{total} ({rate:.1f} fps)", end="", file=sys.stderr, flush=True)

        path = render_video(dance, args.out, args.music, size=args.size, fps=args.fps, body=args.body,
                            camera=args.camera, smpl_dir=args.smpl_dir, progress=progress,
                            antialias=args.antialias)
        print(file=sys.stderr)
        print(f"video: {path} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
