"""The short report shown under the video: length, tempo, primitives, settings and time per stage."""
from __future__ import annotations

from lodge.checks import format_duration

from lodge.sampling import SamplingOptions

from .estimate import STAGES


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def summary_markdown(dance, timings: dict[str, float], device: str, options: SamplingOptions,
                     extra: list[tuple[str, str]] | None = None) -> str:
    """The short report shown under the video; ``options`` as the dance was sampled (resolved for the
    checkpoint, :meth:`lodge.pipeline.LodgePipeline.resolve_options`: the real strength and step count);
    ``extra``: more (name, text) rows at the end (an edit's)."""
    kinds = [p.kind for p in dance.primitives]
    n_hard, n_soft = kinds.count("hard"), len(kinds) - kinds.count("hard")
    tempo = f"{dance.tempo:.0f} BPM" if dance.tempo else "not detected"
    steps = options.iterations()
    soft = "the model's default" if options.soft is None else f"{options.soft:g}"
    quality = f"fast (DDIM, {steps} steps)" if options.sampler == "ddim" else f"full (DDPM, {steps} steps)"
    stage_names = {"music": "music analysis", "global": "global diffusion", "local": "local diffusion",
                   "render": "rendering + downloads"}
    stage_text = " · ".join(f"{stage_names[s]} {timings.get(s, 0.0):.1f} s" for s in STAGES)
    rows = [
        ("Duration", f"{format_duration(dance.duration)} ({dance.num_frames} frames at {dance.fps} fps)"),
        ("Tempo", f"{tempo} ({len(dance.beats)} beats)"),
        ("Genre", dance.genre),
        ("Primitives", f"{len(kinds)} ({_plural(n_hard, 'hard cue')}, {_plural(n_soft, 'soft cue')} incl. mirrored)"),
        ("Segments", f"{_plural(len(dance.segment_starts), 'local segment')} of 8.5 s"),
        ("Settings", f"seed {options.seed} · soft-cue strength {soft} · {quality} · "
                     f"beat sync {'on' if options.beat_sync else 'off'}"
                     + ("" if options.energy == 1.0 else f" · energy {options.energy:g}")),
        ("Time", f"{timings.get('total', sum(timings.values())):.1f} s in all: {stage_text}"),
        ("Device", device),
        *(extra or []),
    ]
    table = "\n".join(f"| **{k}** | {v} |" for k, v in rows)
    return f"| | |\n|---|---|\n{table}\n"
