"""The rows of the evaluation table: what each one generates, and how it is scored."""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .baselines import DEFAULT_OVERLAP, edge_long_generation, retrieval_dance
from ..constants import FPS
from ..data.dataset import CorpusItem
from ..post.footlock import lock_feet
from ..metrics import FeatureSet, evaluate_sequences
from ..motion import motion_to_joints
from ..sampling import SamplingOptions
from .data import features_from_music
from .realism import primitive_joints

METRICS = ("FIDk", "FIDg", "FSR", "Divk", "Divg", "BAS")


@dataclass(frozen=True)
class RowSpec:
    """One row: a name, a group ("main", "baseline", "ablation"), a generator kind and its options.

    kind: "gt" (the test motion itself), "lodge" (the pipeline with ``options``; each item's seed is
    its index), "edge" (EDGE-style sequential generation with ``options``' sampler, steps and
    guidance, windows overlapping by ``overlap`` frames), "retrieval" (random training clips).
    """

    name: str
    group: str
    kind: str
    options: SamplingOptions = SamplingOptions(max_seconds=None)
    note: str = ""
    overlap: int | None = None

    def key(self) -> tuple:
        """What identifies the generated dances (rows with the same key share them)."""
        return (self.kind, self.options, self.overlap)


@dataclass
class RowResult:
    """Scores of one row. ``runtime`` is generation seconds per generated minute (None for the GT)."""

    name: str
    group: str
    metrics: dict[str, float]
    runtime: float | None
    note: str = ""
    error: str = ""
    dances: list[np.ndarray] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        """JSON form (without the dances)."""
        return {"name": self.name, "group": self.group, **{m: _num(self.metrics.get(m)) for m in METRICS},
                "runtime_s_per_min": _num(self.runtime), "note": self.note, "error": self.error}


def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def table_rows(steps: int, ddpm_steps: int, ablations: bool, overlap: int = DEFAULT_OVERLAP,
               default_soft: float = 1.0) -> list[RowSpec]:
    """The rows of the paper's Table 1 we can run here, then (optionally) the ablations.

    The Lodge rows sample with ``default_soft`` (the checkpoint's default s, what users get); the
    s sweep names s explicitly and shares the dances of its default value with the main row.
    """
    ddim_any_s = SamplingOptions(sampler="ddim", steps=steps, max_seconds=None)
    ddim = ddim_any_s.replace(soft=float(default_soft))
    ddpm_note = "the paper's 1000 steps" if ddpm_steps >= 1000 else f"respaced from 1000 to {ddpm_steps} steps"
    rows = [
        RowSpec("Ground truth", "main", "gt", note="the test items' own motion"),
        RowSpec(f"Lodge (DDIM, {steps} steps)", "main", "lodge", ddim),
        RowSpec(f"Lodge (DDPM, {ddpm_steps} steps)", "main", "lodge",
                ddim.replace(sampler="ddpm", steps=ddpm_steps), note=ddpm_note),
        RowSpec("EDGE-style long generation", "baseline", "edge", ddim_any_s, overlap=overlap,
                note=f"same local model, sequential 256-frame windows, {overlap}-frame overlaps inpainted and "
                     "linearly blended, no global stage; foot lock as Lodge"),
        RowSpec("Local diffusion only (no primitives)", "baseline", "lodge",
                ddim_any_s.replace(use_primitives=False),
                note="no hard or soft cues"),
        RowSpec("Retrieval (random train clips)", "baseline", "retrieval",
                note="4-s clips of the same genre from the train split, 6-frame crossfades, root carried on"),
    ]
    if ablations:
        rows += [
            RowSpec("No soft cues", "ablation", "lodge", ddim.replace(soft_cues=False)),
            RowSpec("No mirroring", "ablation", "lodge", ddim.replace(mirror=False)),
            RowSpec("No beat alignment", "ablation", "lodge", ddim.replace(beat_align=False),
                    note="soft cues not moved onto beats"),
            RowSpec("No post-processing", "ablation", "lodge",
                    ddim.replace(lowpass=False, smooth_cue_joins=False, floor=False, foot_lock=False),
                    note="the two diffusion stages' output as it comes"),
            RowSpec("No foot lock", "ablation", "lodge", ddim.replace(foot_lock=False)),
            RowSpec("No low-pass", "ablation", "lodge", ddim.replace(lowpass=False),
                    note="the generated frames' judder left in (lodge.post.lowpass)"),
            RowSpec("No floor", "ablation", "lodge", ddim.replace(floor=False),
                    note="the root's height as sampled (lodge.post.ground)"),
            RowSpec("With beat sync", "ablation", "lodge", ddim.replace(beat_sync=True),
                    note="re-timed onto the beats (lodge.post.beat_sync; off by default)"),
        ]
        for s in sorted({0.0, 0.25, 0.5, 0.75, 1.0, float(default_soft)}):
            opts = ddim_any_s.replace(soft=s)
            note = "same dances as Lodge (DDIM)" if s == float(default_soft) else ("soft cues never imposed" if s == 0 else "")
            rows.append(RowSpec(f"s = {s:g}", "ablation", "lodge", opts, note=note))
    return rows


@dataclass
class Generator:
    """Generates the dances of a row for every test item (cached by the row's key)."""

    pipe: object
    items: Sequence[CorpusItem]
    train_items: Sequence[CorpusItem]
    genres: list[str]
    log: object = None
    cache: dict = field(default_factory=dict)
    primitives: dict = field(default_factory=dict)  # row key -> (P, 8, 22, 3) primitive joints per dance (Lodge rows)

    def dances(self, spec: RowSpec) -> tuple[list[np.ndarray], float | None]:
        """(joints of each test item's dance, generation seconds per generated minute or None)."""
        if spec.key() in self.cache:
            return self.cache[spec.key()]
        if spec.kind == "gt":
            out = ([motion_to_joints(it.motion) for it in self.items], None)
            self.cache[spec.key()] = out
            return out
        joints, prims, seconds, frames = [], [], 0.0, 0
        for i, (item, genre) in enumerate(zip(self.items, self.genres)):
            t0 = time.perf_counter()
            motion, prim = self._one(spec, item, genre, seed=i)
            seconds += time.perf_counter() - t0
            frames += len(motion)
            joints.append(np.asarray(motion_to_joints(motion), np.float32))
            prims.append(prim)
            if self.log:
                self.log(f"  {spec.name}: item {i + 1}/{len(self.items)} ({time.perf_counter() - t0:.1f} s)")
        out = (joints, seconds / (frames / (60.0 * FPS)) if frames else None)
        self.cache[spec.key()] = out
        if spec.kind == "lodge":
            self.primitives[spec.key()] = prims
        return out

    def _one(self, spec: RowSpec, item: CorpusItem, genre: str, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(motion, joints of the placed primitives or None) of one item's dance."""
        feats = features_from_music(item.music)
        kind, opts = spec.kind, spec.options.replace(seed=seed)
        if kind == "lodge":
            dance = self.pipe(feats, genre, opts)
            return dance.motion, primitive_joints(dance)
        if kind == "edge":
            overlap = DEFAULT_OVERLAP if spec.overlap is None else spec.overlap
            # the same foot lock as the Lodge rows, so the comparison is of the samplers alone
            return lock_feet(edge_long_generation(self.pipe, feats, genre, opts, overlap=overlap).motion), None
        if kind == "retrieval":
            return retrieval_dance(self.train_items, item.genre, len(item), seed=seed), None
        raise ValueError(f"unknown row kind {kind!r}")


def score_row(spec: RowSpec, gen: Generator, gt: list[np.ndarray], beats: list[np.ndarray],
              gt_features: FeatureSet, official: bool) -> RowResult:
    """Generate (or reuse) a row's dances and compute its metrics against the ground truth."""
    dances, runtime = gen.dances(spec)
    try:
        metrics = evaluate_sequences(dances, gt, beats, official=official, gt_features=gt_features)
        error = ""
    except (ValueError, np.linalg.LinAlgError) as exc:  # e.g. FID with fewer than 2 items
        metrics, error = _per_dance_metrics(dances, beats, official), f"FID/Div: {exc}"
    return RowResult(spec.name, spec.group, metrics, runtime, spec.note, error, dances)


def _per_dance_metrics(dances: list[np.ndarray], beats: list[np.ndarray], official: bool) -> dict[str, float]:
    """BAS and FSR alone (the set metrics left NaN), for sets too small for FID."""
    from ..metrics import MetricOptions, beat_alignment_score, foot_skating_ratio
    from ..metrics.options import resolve

    opts = MetricOptions.official() if official else resolve(None)
    bas = [beat_alignment_score(d, b, options=opts) for d, b in zip(dances, beats)]
    out = {m: float("nan") for m in METRICS}
    out["BAS"] = float(np.nanmean(bas)) if not np.all(np.isnan(bas)) else float("nan")
    out["FSR"] = float(np.mean([foot_skating_ratio(d, options=opts) for d in dances]))
    return out
