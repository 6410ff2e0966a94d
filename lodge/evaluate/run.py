"""`python -m lodge evaluate`: generate for every test item, score every row, run the checks, report."""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..data.dataset import load_corpus
from ..metrics import MetricOptions, extract_features
from ..metrics.options import resolve
from ..sampling import DEFAULT_DDIM_STEPS, SamplingOptions
from .args import PAPER_DDPM_STEPS
from .baselines import DEFAULT_OVERLAP
from .checks import (
    BAS_RATIO_MIN, FSR_RATIO_MAX, freeze_check, genre_check, gt_mean_speed, most_common, ratio_check,
)
from .data import cut_item, features_from_music, item_joints, per_genre, spread
from .realism import item_realism, reference_source, song_realism, truth_realism
from .realism_reference import load_reference
from .report import markdown, write_report
from .rows import Generator, table_rows, score_row
from .songs import expand_genres, parse_songs


@dataclass
class EvalSettings:
    """Options of one evaluation run (see :func:`add_arguments`)."""

    data: str
    checkpoint: str | None = None
    split: str = "test"
    steps: int = DEFAULT_DDIM_STEPS
    ddpm_steps: int = PAPER_DDPM_STEPS
    seconds: float | None = None
    official: bool = False
    ablations: bool = False
    out: str = "outputs/evaluate"
    limit: int | None = None
    device: str | None = None
    overlap: int = DEFAULT_OVERLAP
    freeze_seconds: float = 180.0
    check_items: int = 4
    checks: bool = True
    quiet: bool = False
    songs: tuple[str, ...] = ()
    realism_only: bool = False
    per_genre: int | None = None
    reference: str | None = None


def settings_from_args(args: argparse.Namespace) -> EvalSettings:
    """EvalSettings from parsed arguments."""
    return EvalSettings(
        data=args.data, checkpoint=args.checkpoint, split=args.split, steps=args.steps, ddpm_steps=args.ddpm_steps,
        seconds=args.seconds, official=args.official, ablations=args.ablations, out=args.out, limit=args.limit,
        device=args.device, overlap=args.overlap, freeze_seconds=args.freeze_seconds, check_items=args.check_items,
        checks=args.checks, songs=tuple(args.songs), realism_only=args.realism_only, per_genre=args.per_genre,
        reference=args.reference,
    )


def _commit() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + (" (with uncommitted changes)" if dirty else "")


def hardware(device: str) -> str:
    """A one-line description of where this runs."""
    import torch

    cpu = f"{platform.machine()} {platform.processor() or 'CPU'}, {os.cpu_count()} cores, torch {torch.__version__}, " \
          f"{torch.get_num_threads()} threads"
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (CUDA); host {cpu}"
    return cpu


def evaluate(settings: EvalSettings, command: str = "") -> dict:
    """Run the whole evaluation, write results.md / results.json into ``settings.out``; returns the result."""
    from ..pipeline import DEFAULT_CHECKPOINT, LodgePipeline

    log = (lambda msg: None) if settings.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    data = Path(settings.data)
    if not (data / "split.json").is_file():
        raise FileNotFoundError(f"no corpus at {data}: expected items/ and split.json")
    items = [cut_item(it, settings.seconds) for it in load_corpus(data, settings.split)]
    if settings.per_genre is not None:
        items = per_genre(items, settings.per_genre)
    if settings.limit and settings.limit < len(items):
        items = spread(items, settings.limit)
    songs = parse_songs(list(settings.songs), data)
    if not items and not (settings.realism_only and songs):
        raise ValueError(f"split {settings.split!r} of {data} has no items")
    if settings.realism_only:
        train = []
    else:
        train = load_corpus(data, "train") if settings.split != "train" else list(items)
    pipe = LodgePipeline.from_pretrained(settings.checkpoint, device=settings.device)
    songs = expand_genres(songs, pipe.genres)
    reference = load_reference(settings.reference)
    known = {g.lower(): g for g in pipe.genres}
    genres = [known.get(it.genre.lower(), pipe.genres[0]) for it in items]
    fallbacks = sorted({it.genre for it in items if it.genre.lower() not in known})

    options = MetricOptions.official() if settings.official else resolve(None)
    gt = [] if settings.realism_only else [item_joints(it) for it in items]
    gt_features = None if settings.realism_only else extract_features(gt, options)
    beats = [features_from_music(it.music).beats for it in items]
    gen = Generator(pipe, items, train, genres, log=log)
    specs = table_rows(settings.steps, settings.ddpm_steps, settings.ablations, settings.overlap,
                       default_soft=pipe.default_soft)
    lodge_spec = specs[1]  # Lodge (DDIM), the checkpoint's default settings
    realism = {"reference": reference_source(settings.reference), "row": lodge_spec.name,
               "items": item_realism(gen, lodge_spec, reference) if items else None,
               "items_truth": truth_realism(items, genres, reference) if items else None,
               **song_realism(pipe, songs, lodge_spec.options, reference, log)}
    results = []
    for spec in ([] if settings.realism_only else specs):
        t0 = time.perf_counter()
        row = score_row(spec, gen, gt, beats, gt_features, settings.official)
        results.append(row)
        log(f"{spec.name}: {', '.join(f'{k} {v:.4g}' for k, v in row.metrics.items())} ({time.perf_counter() - t0:.1f} s)")

    checks: dict = {}
    if not settings.realism_only:
        by_name = {r.name: r for r in results}
        gt_row, ddim_row = by_name["Ground truth"], results[1]
        checks["bas"] = ratio_check(ddim_row.metrics["BAS"], gt_row.metrics["BAS"], BAS_RATIO_MIN, at_least=True)
        checks["fsr"] = ratio_check(ddim_row.metrics["FSR"], gt_row.metrics["FSR"], FSR_RATIO_MAX, at_least=False)
    if settings.checks and not settings.realism_only:
        ddim = SamplingOptions(sampler="ddim", steps=settings.steps)
        log(f"never-freezes check: {settings.freeze_seconds:g} s of looped test music")
        checks["freeze"] = freeze_check(pipe, items, most_common(genres), gt_mean_speed(gt),
                                        settings.freeze_seconds, ddim)
        n = max(1, min(settings.check_items, len(items)))
        log(f"genre-matters check on {n} items")
        checks["genre"] = genre_check(pipe, items[:n], genres[:n], gt, ddim)

    ckpt_path = pipe.ckpt.path or (Path(settings.checkpoint) if settings.checkpoint else DEFAULT_CHECKPOINT)
    result = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"), "commit": _commit(), "hardware": hardware(pipe.device),
            "device": pipe.device, "checkpoint": str(ckpt_path),
            "training_data": pipe.ckpt.meta.get("training_data", {}).get("description", "unknown"),
            "parameters": pipe.ckpt.meta.get("parameters", {}), "data": str(data), "split": settings.split,
            "items": len(items), "frames": int(sum(len(it) for it in items)), "seconds": settings.seconds,
            "steps": settings.steps, "ddpm_steps": settings.ddpm_steps, "official": settings.official,
            "overlap": settings.overlap, "genre_fallbacks": fallbacks, "command": command,
            "realism_only": settings.realism_only,
        },
        "realism": realism,
        "rows": [r.to_dict() for r in results],
        "checks": checks,
    }
    md_path, js_path = write_report(result, settings.out)
    if not settings.quiet:
        print(markdown(result))
        print(f"wrote {md_path} and {js_path}")
    return result


def main(args: argparse.Namespace) -> int:
    """CLI handler."""
    evaluate(settings_from_args(args), command="python -m lodge " + " ".join(sys.argv[1:]))
    return 0
