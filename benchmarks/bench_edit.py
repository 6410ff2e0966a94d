"""An edit against a fresh generation, video included, through the app's own code path.

Usage: python benchmarks/bench_edit.py [--seconds 60] [--song examples/X.mp3] [--genre salsa] [--steps 50]
       [--video-size 384] [--video-fps 30] [--camera follow] [--device cpu|cuda] [--checkpoint DIR] [--motion-only]

Loops an example song to ``--seconds`` (written as a wav), loads the app's :class:`~lodge_app.studio.Studio`,
warms it up on 5 s of the song (not timed), then times in the same run:

* a fresh generation with its video and every download (``Studio.generate``, what ``/generate`` runs);
* a reroll of one segment in the middle with its video and downloads (``lodge_app.edits.Editor.edit``, what
  ``/reroll`` runs): the video renders only the chunks that changed (``renderer/chunks.py``).

Prints both, their parts and the ratio (the goal is at most 0.5). With ``--motion-only`` it times the
library's edits on the motion alone instead (no app, no video): a fresh generation, a reroll, a reroll with
new moves and a copy of a move.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, no install needed
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from lodge.audio import load_audio, music_features  # noqa: E402
from lodge.constants import FPS, SAMPLE_RATE, SEG_LEN  # noqa: E402

import torch  # noqa: E402  (after lodge, which sets OMP_WAIT_POLICY before torch loads)

ROOT = Path(__file__).resolve().parents[1]


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def _song(args, folder: Path) -> tuple[Path, np.ndarray]:
    """The example looped to ``--seconds``, as a wav in `folder`, and its samples."""
    import soundfile as sf

    wave = load_audio(args.song, max_seconds=None)
    n = int(args.seconds * SAMPLE_RATE)
    wave = np.tile(wave, int(np.ceil(n / len(wave))))[:n]
    path = folder / f"song_{args.seconds:g}s.wav"
    sf.write(path, wave, SAMPLE_RATE)
    return path, wave


def app_run(args) -> None:
    """Fresh generation vs one-segment reroll, both with video, through Studio and Editor."""
    from lodge.sampling import SamplingOptions
    from lodge_app import edits, workspace
    from lodge_app.options import Request
    from lodge_app.outputs import CHUNKS_FOLDER
    from lodge_app.settings import AppSettings
    from lodge_app.studio import Studio
    from renderer.chunks import MANIFEST_FILE

    with tempfile.TemporaryDirectory(prefix="bench_edit_") as tmp:
        tmp = Path(tmp)
        song, _ = _song(args, tmp)
        checkpoint = Path(args.checkpoint) if args.checkpoint else None
        settings = AppSettings(checkpoint=checkpoint, device=args.device, calibrate=False)
        studio = Studio.load(settings, workdir=tmp / "work")
        if not studio.ready:
            raise SystemExit(studio.load_error)
        genre = args.genre if args.genre in studio.genres else studio.genres[0]
        request = Request(genre=genre, sampling=SamplingOptions(steps=args.steps), camera=args.camera,
                          video_size=args.video_size, video_fps=args.video_fps)
        frames = int(args.seconds * FPS)
        segment = (frames // SEG_LEN) // 2  # one in the middle: neighbours on both sides
        print(f"song {args.seconds:.0f} s ({Path(args.song).name}, looped), {-(-frames // SEG_LEN)} segments; "
              f"device {studio.device} ({_device_name(studio.pipe)}); DDIM {args.steps or 'default'} steps; video "
              f"{args.video_size} px, {args.video_fps} fps, {args.camera} camera; {_load()}", flush=True)

        # Warm-up (not timed): the same shapes of work on 5 s, a generation and an edit.
        warm = studio.generate(song, replace(request, sampling=request.sampling.replace(duration=5.0, steps=1)))
        history = edits.new_history(warm, song, request, "warm")
        for _ in edits.Editor(studio).edit(history, "reroll", dict(segments=[0], seed=1)):
            pass

        t0 = time.perf_counter()
        fresh = studio.generate(song, request)
        t_fresh = time.perf_counter() - t0
        history = edits.new_history(fresh, song, request, workspace.safe_stem(song.name))
        t0 = time.perf_counter()
        t_quick = None
        for history, version in edits.Editor(studio).edit(history, "reroll", dict(segments=[segment], seed=1)):
            t_quick = t_quick if t_quick is not None else time.perf_counter() - t0
        t_edit = time.perf_counter() - t0
        manifest = json.loads((Path(version["folder"]) / CHUNKS_FOLDER / MANIFEST_FILE).read_text())

    t = fresh.timings
    print(f"{'':<44} {'seconds':>8}")
    motion = t["music"] + t["global"] + t["local"]
    print(f"{'fresh generation, with video':<44} {t_fresh:8.1f}   (motion {motion:.1f}, video + downloads "
          f"{t['render']:.1f})")
    print(f"{f'reroll segment {segment}, with video':<44} {t_edit:8.1f}   (timeline and 3D view shown after "
          f"{t_quick:.1f}; {len(manifest['rendered'])} of {manifest['chunks']} video chunks rendered)")
    print(f"{'ratio edit / fresh (goal <= 0.5)':<44} {t_edit / t_fresh:8.3f}")
    print(f"({_load()} at the end)")


def _device_name(pipe) -> str:
    return torch.cuda.get_device_name() if pipe.device == "cuda" else \
        f"{platform.processor() or 'cpu'} x{torch.get_num_threads()} threads"


def _timed(pipe, call, repeats: int):
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


def motion_run(args) -> None:
    """The library's edits on the motion alone against a fresh generation (no app, no video)."""
    from lodge.pipeline import LodgePipeline

    pipe = LodgePipeline.from_pretrained(args.checkpoint, device=args.device)
    wave = load_audio(args.song, max_seconds=None)
    n = int(args.seconds * SAMPLE_RATE)
    features = music_features(np.tile(wave, int(np.ceil(n / len(wave))))[:n])
    opts = pipe.resolve_options(steps=args.steps, max_seconds=None)
    print(f"song {args.seconds:.0f} s ({Path(args.song).name}, looped), {-(-features.num_frames // SEG_LEN)} segments; "
          f"device {pipe.device} ({_device_name(pipe)}); {opts.sampler} {opts.steps} steps")

    warm = pipe(features, args.genre, opts.replace(steps=1))  # warm-up at these shapes (allocations, kernels)
    pipe.reroll(warm, [0], seed=1, new_moves=True)
    segment = (features.num_frames // SEG_LEN) // 2
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="song length (the example is looped)")
    parser.add_argument("--song", default=str(ROOT / "examples" / "salsa_clave_del_puerto_180bpm.mp3"))
    parser.add_argument("--genre", default="salsa")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the sampler's)")
    parser.add_argument("--video-size", type=int, default=384, help="pixels (the app's default on a CPU: 384)")
    parser.add_argument("--video-fps", type=int, default=30, choices=(30, 15))
    parser.add_argument("--camera", default="follow", choices=("follow", "fixed"))
    parser.add_argument("--checkpoint", default=None, help="default: the shipped weights")
    parser.add_argument("--device", default=None)
    parser.add_argument("--motion-only", action="store_true", help="time the library's edits on the motion only")
    parser.add_argument("--repeats", type=int, default=1, help="with --motion-only: median of this many runs")
    args = parser.parse_args()
    motion_run(args) if args.motion_only else app_run(args)


if __name__ == "__main__":
    main()
