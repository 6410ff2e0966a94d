"""`render_timeline`: the song over time with beats, segment joins and every primitive as a coloured span."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lodge.constants import PARENTS
from lodge.dance import Dance

from . import palette
from .marks import edited_stretches

THUMB_IN = 0.62  # thumbnail side, inches


@dataclass(frozen=True)
class Span:
    """One primitive as drawn: seconds, kind and colour."""

    start: float
    end: float
    kind: str
    color: str


def primitive_spans(dance: Dance) -> list[Span]:
    """The coloured spans the timeline draws, one per primitive, in time order."""
    fps = float(dance.fps)
    prims = sorted(dance.primitives, key=lambda p: p.start)
    return [Span(p.start / fps, (p.start + p.length) / fps, p.kind, palette.CUE_COLORS[p.kind]) for p in prims]


def _signal(dance: Dance, music_path: str | os.PathLike | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(times, values in [0, 1], label): the onset envelope if the dance has one, else the music's RMS."""
    if dance.onset_envelope is not None and len(dance.onset_envelope):
        env = np.asarray(dance.onset_envelope, np.float64)
        times = np.arange(len(env)) / float(dance.fps)
        label = "onset strength"
    elif music_path is not None:
        import soundfile as sf

        audio, sr = sf.read(str(music_path), always_2d=True)
        mono = audio.mean(axis=1)
        hop = max(1, sr // (4 * dance.fps))
        frames = len(mono) // hop
        env = np.sqrt((mono[: frames * hop].reshape(frames, hop) ** 2).mean(axis=1))
        times = np.arange(frames) * hop / sr
        label = "loudness"
    else:
        times, env, label = np.array([0.0, dance.duration]), np.zeros(2), ""
    peak = env.max() if env.size and env.max() > 0 else 1.0
    keep = times <= dance.duration
    return times[keep], env[keep] / peak, label


def _draw_stick(ax, joints: np.ndarray, color: str) -> None:
    """A front-view stick figure of one (22, 3) pose (x right, y up), normalised to the axes box."""
    xy = joints[:, :2] - joints[0, :2]
    for j, p in enumerate(PARENTS):
        if p >= 0:
            ax.plot(xy[[p, j], 0], xy[[p, j], 1], color=color, lw=1.6, solid_capstyle="round")
    ax.add_patch(_head_patch(xy[15], color))
    ax.set_xlim(-0.95, 0.95)
    ax.set_ylim(-1.1, 0.8)
    ax.set_aspect("equal")
    ax.axis("off")


def _head_patch(center: np.ndarray, color: str):
    from matplotlib.patches import Circle

    return Circle((center[0], center[1] + 0.06), 0.09, color=color)


def _lanes(centers: np.ndarray, width: float, lanes: int = 3) -> list[int]:
    """Greedy: put each thumbnail in the lowest lane where it does not overlap the previous one there."""
    last = [-np.inf] * lanes
    out = []
    for c in centers:
        lane = next((k for k in range(lanes) if c - last[k] >= width), int(np.argmin(last)))
        last[lane] = c
        out.append(lane)
    return out


def render_timeline(dance: Dance, out_path: str | os.PathLike, music_path: str | os.PathLike | None = None,
                    dpi: int = 110) -> Path:
    """Draw the dance's timeline to a PNG and return its path.

    Top band: pose thumbnails (front view, mid-primitive pose) in the primitive's colour, joined to
    their place in time. Main band: the onset envelope (or loudness), beat ticks, segment joins and one
    coloured span per primitive (hard, soft, mirrored soft); the stretch the dance's last edit
    regenerated is shaded orange, with a bar under the time axis.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D

    duration = dance.duration
    spans = primitive_spans(dance)
    times, env, env_label = _signal(dance, music_path)
    width_in = float(np.clip(4.0 + duration * 0.22, 10.0, 22.0))
    height_in = 4.8
    fig = plt.figure(figsize=(width_in, height_in), dpi=dpi)
    left, right = 0.045, 0.985
    ax = fig.add_axes((left, 0.15, right - left, 0.36))
    ax.set_xlim(0, duration)
    ax.set_ylim(0, 1.12)

    edited = [(a / dance.fps, b / dance.fps) for a, b in edited_stretches(dance)]
    for a, b in edited:  # the stretch the last edit regenerated, behind everything else
        ax.axvspan(a, b, color=palette.EDIT_COLOR, alpha=0.25, lw=0, zorder=0)
        ax.hlines(-0.03, a, b, color=palette.EDIT_COLOR, lw=5, zorder=4, clip_on=False)
    for span in spans:
        ax.axvspan(span.start, span.end, color=span.color, alpha=0.85 if span.kind == "hard" else 0.7, lw=0,
                   hatch="///" if span.kind == "soft_mirror" else None, zorder=1)
    ax.fill_between(times, 0, env, color=palette.ENVELOPE_COLOR, alpha=0.45, lw=0, zorder=2)
    ax.plot(times, env, color=palette.ENVELOPE_COLOR, lw=0.8, zorder=2)
    beats = np.asarray(dance.beats, np.float64) / dance.fps
    ax.vlines(beats[beats <= duration], 1.0, 1.12, color=palette.BEAT_COLOR, lw=0.9, zorder=3)
    for s in np.asarray(dance.segment_starts, np.float64)[1:] / dance.fps:
        ax.axvline(s, color=palette.SEGMENT_COLOR, lw=1.4, ls="--", zorder=3)

    ax.set_yticks([])
    ax.set_xlabel("time (s)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.text(0.0, 1.14, "beats", transform=ax.get_yaxis_transform(), fontsize=7, color=palette.BEAT_COLOR, va="bottom")

    # Thumbnails in up to three lanes above the plot, each tied to its span by a thin line.
    ax_box = ax.get_position()
    centers = np.array([(s.start + s.end) / 2 for s in spans])
    frac = ax_box.x0 + centers / max(duration, 1e-6) * ax_box.width
    thumb_w, thumb_h = THUMB_IN / width_in, THUMB_IN / height_in
    lanes = _lanes(frac, thumb_w * 1.02)
    for span, x, lane, prim in zip(spans, frac, lanes, sorted(dance.primitives, key=lambda p: p.start)):
        mid = min(prim.start + prim.length // 2, dance.num_frames - 1)
        bottom = ax_box.y1 + 0.07 + lane * thumb_h * 1.02
        tax = fig.add_axes((x - thumb_w / 2, bottom, thumb_w, thumb_h))
        _draw_stick(tax, np.asarray(dance.joints[mid]), span.color)
        fig.add_artist(Line2D([x, x], [ax_box.y1, bottom], color=span.color, lw=0.6, alpha=0.6))

    counts = {k: sum(s.kind == k for s in spans) for k in palette.CUE_COLORS}
    handles = [Patch(facecolor=palette.CUE_COLORS[k], hatch="///" if k == "soft_mirror" else None,
                     label=f"{palette.CUE_LABELS[k]} ({counts[k]})") for k in palette.CUE_COLORS]
    handles += [Line2D([], [], color=palette.BEAT_COLOR, lw=0.9, label="beat"),
                Line2D([], [], color=palette.SEGMENT_COLOR, lw=1.4, ls="--", label="segment join")]
    if env_label:
        handles.append(Patch(facecolor=palette.ENVELOPE_COLOR, alpha=0.45, label=env_label))
    if edited:
        op = str(dance.edits[-1].get("op", "edit")).replace("_", " ")
        handles.append(Patch(facecolor=palette.EDIT_COLOR, alpha=0.5, label=f"edited ({op})"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=8,
               bbox_to_anchor=(0.5, 0.0))
    title = f"{dance.genre} · {duration:.1f} s"
    if dance.tempo:
        title += f" · {dance.tempo:.0f} BPM"
    fig.text(left, 0.975, title, fontsize=10, weight="bold", va="top")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=dpi, facecolor="white")
    plt.close(fig)
    return out_path
