"""Stage timings of the whole pipeline against song length, and Lodge's parallel sampler against an
EDGE-style sequential long generation with the same network, in the same run.

Usage:
    python benchmarks/bench_pipeline.py [--checkpoint DIR | --preset small] [--device cpu|cuda]
        [--steps 50] [--lengths 30 60 120 300] [--no-render] [--render-seconds 10] [--no-edge] [--json PATH]

For each song length (a synthetic 120 BPM click-and-tone track, so no file is needed) it times:
music features (librosa), the global stage, the local stage, the EDGE-style sequential generation
(the same local network over overlapping 256-frame windows, one after the other, no global stage)
and rendering of the mannequin video at 512 px. Rendering costs the same per frame at any length, so
songs longer than ``--render-seconds`` are not rendered whole: a fixed cost plus a cost per frame,
fitted on renders of 1 s and ``--render-seconds`` of the dance, gives their time (marked ``*``). On a GPU, Lodge's diffusion time should stay nearly flat as the song
grows (every segment is in one batch) while the sequential baseline grows linearly.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lodge.audio import music_features, synth_click_track  # noqa: E402
from lodge.evaluate.baselines import DEFAULT_OVERLAP, edge_long_generation  # noqa: E402
from lodge.checkpoint import create_random_checkpoint  # noqa: E402
from lodge.constants import FPS, SAMPLE_RATE  # noqa: E402
from lodge.pipeline import DEFAULT_CHECKPOINT, LodgePipeline  # noqa: E402


def song(seconds: float) -> np.ndarray:
    """A 120 BPM metronome with a stepping sine melody, mono float32 at 15360 Hz."""
    clicks = synth_click_track(120, seconds)
    t = np.arange(len(clicks)) / SAMPLE_RATE
    melody = 0.1 * np.sin(2 * np.pi * (220 + 110 * (np.floor(t * 2) % 4)) * t)
    return (clicks + melody).astype(np.float32)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str):
    """(result, seconds) of fn(), synchronised on CUDA."""
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return out, time.perf_counter() - t0


def _render_part(dance, frames: int, size: int) -> float:
    """Seconds to render the first ``frames`` frames of ``dance`` as a mannequin video (no audio)."""
    from lodge.dance import Dance
    from renderer.video import render_video

    part = Dance(motion=dance.motion[:frames], joints=dance.joints[:frames], genre=dance.genre,
                 beats=dance.beats[dance.beats < frames], primitives=[], segment_starts=np.zeros(1, np.int64))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        render_video(part, Path(tmp) / "bench.mp4", size=size)
        return time.perf_counter() - t0


def render_model(dance, seconds: float, size: int = 512) -> tuple[float, float]:
    """(fixed seconds, seconds per frame) of rendering, from two renders of ``dance``: 1 s and ``seconds``."""
    short = min(FPS, dance.num_frames - 1)
    long = max(short + 1, min(dance.num_frames, int(round(seconds * FPS))))
    t_short, t_long = _render_part(dance, short, size), _render_part(dance, long, size)
    per_frame = max(t_long - t_short, 0.0) / (long - short)
    return max(t_short - per_frame * short, 0.0), per_frame


def describe(device: str) -> str:
    """The hardware in one line."""
    cpu = f"{platform.machine()} CPU, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name()} (CUDA), host {cpu}"
    return cpu


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="checkpoint (default: shipped weights, else --preset)")
    parser.add_argument("--preset", choices=("tiny", "small"), default="small",
                        help="random model size when no checkpoint is there (timings depend on size, not weights)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--steps", type=int, default=50, help="DDIM steps for both samplers")
    parser.add_argument("--lengths", type=float, nargs="+", default=[30, 60, 120, 300], help="song lengths (s)")
    parser.add_argument("--no-render", dest="render", action="store_false", help="skip the rendering timing")
    parser.add_argument("--render-seconds", type=float, default=10.0,
                        help="render longer songs only this far and extrapolate (0: render every song whole)")
    parser.add_argument("--no-edge", dest="edge", action="store_false", help="skip the EDGE-style comparison")
    parser.add_argument("--edge-overlap", type=int, default=DEFAULT_OVERLAP)
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    path = args.checkpoint
    if path is None:
        path = DEFAULT_CHECKPOINT if (DEFAULT_CHECKPOINT / "config.json").exists() else create_random_checkpoint(
            Path(tempfile.mkdtemp()) / args.preset, ["a", "b"], preset=args.preset)
    pipe = LodgePipeline.from_pretrained(path, device=args.device)
    device = pipe.device
    params = sum(p.numel() for p in pipe.local.parameters())
    genre = pipe.genres[0]
    print(f"checkpoint {path} (local network {params / 1e6:.1f} M parameters)")
    print(f"device {device}: {describe(device)}; DDIM {args.steps} steps, guidance on")
    warm = music_features(song(10))
    pipe(warm, genre, steps=2)  # warm-up (allocations, kernels)
    if args.edge:
        edge_long_generation(pipe, warm, genre, steps=2, overlap=args.edge_overlap)

    rows, render_fit = [], None
    head = f"{'song s':>7} {'music s':>8} {'global s':>9} {'local s':>8} {'Lodge diff s':>12} {'EDGE-seq s':>10} " \
           f"{'render s':>9} {'total s':>8} {'x realtime':>10}"
    print(head)
    for seconds in args.lengths:
        wave = song(seconds)
        feats, t_music = timed(lambda: music_features(wave), device)
        pipe(feats, genre, steps=1, max_seconds=None)  # warm-up at this batch shape (CPU kernels are shape-specific)
        dance = pipe(feats, genre, steps=args.steps, max_seconds=None)
        t_global, t_local = dance.timings["global"], dance.timings["local"]
        t_edge = None
        if args.edge:
            _, t_edge = timed(lambda: edge_long_generation(pipe, feats, genre, steps=args.steps,
                                                           overlap=args.edge_overlap), device)
        t_render, extrapolated = (None, False)
        if args.render:
            if not args.render_seconds or dance.num_frames <= args.render_seconds * FPS:
                t_render = _render_part(dance, dance.num_frames, 512)
            else:
                if render_fit is None:
                    render_fit = render_model(dance, args.render_seconds)
                t_render, extrapolated = render_fit[0] + render_fit[1] * dance.num_frames, True
        total = t_music + t_global + t_local + (t_render or 0.0)
        row = {"seconds": seconds, "music": t_music, "global": t_global, "local": t_local,
               "lodge_diffusion": t_global + t_local, "edge_sequential": t_edge, "render": t_render,
               "render_extrapolated": extrapolated, "total": total, "realtime_factor": seconds / total}
        rows.append(row)
        edge_s = "–" if t_edge is None else f"{t_edge:.2f}"
        render_s = "–" if t_render is None else f"{t_render:.1f}{'*' if extrapolated else ''}"
        print(f"{seconds:7.0f} {t_music:8.2f} {t_global:9.2f} {t_local:8.2f} {t_global + t_local:12.2f} "
              f"{edge_s:>10} {render_s:>9} {total:8.1f} {seconds / total:10.2f}", flush=True)
    if args.render and any(r["render_extrapolated"] for r in rows):
        print(f"* rendering time = fixed {render_fit[0]:.2f} s + {1000 * render_fit[1]:.0f} ms per frame at 512 px, "
              f"fitted on renders of 1 s and {args.render_seconds:g} s of the dance")
    print("Lodge diff = global + local stage (all segments in one batch); EDGE-seq = the same local network "
          f"over {args.edge_overlap}-frame-overlap windows one after the other; total excludes EDGE-seq")
    result = {"checkpoint": str(path), "device": device, "hardware": describe(device), "steps": args.steps,
              "local_parameters": params, "rows": rows}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
