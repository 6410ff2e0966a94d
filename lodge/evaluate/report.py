"""Write the evaluation as markdown (`results.md`) and JSON (`results.json`)."""
from __future__ import annotations

import json
from pathlib import Path

from .rows import METRICS

HEADERS = ("Method", "FIDk ↓", "FIDg ↓", "FSR ↓", "Divk ↑", "Divg ↑", "BAS ↑", "Run time (s / min) ↓")
# The paper's Table 1 (FineDance test set), for orientation only: different data, not comparable.
PUBLISHED_FINEDANCE = [
    {"name": "Lodge (DDPM), paper", "FIDk": 45.56, "FIDg": 34.29, "FSR": 0.0276, "Divk": 6.75, "Divg": 5.64,
     "BAS": 0.2397},
    {"name": "Lodge (DDIM), paper", "FIDk": 50.00, "BAS": 0.2269},
]


def _fmt(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "FSR":
        return f"{100 * value:.2f}%"
    if kind == "BAS":
        return f"{value:.4f}"
    return f"{value:.3g}" if abs(value) >= 1e5 else f"{value:.2f}"


def _table(rows: list[dict]) -> list[str]:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for r in rows:
        cells = [r["name"]] + [_fmt(r.get(m), m) for m in METRICS] + [_fmt(r.get("runtime_s_per_min"), "t")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _check_lines(checks: dict) -> list[str]:
    out = ["| check | measured | limit | pass |", "|---|---|---|---|"]
    if "bas" in checks:
        c = checks["bas"]
        out.append(f"| dances to the beat: BAS model / GT | {c['model']:.4f} / {c['gt']:.4f} = {c['ratio']:.2f} "
                   f"| ≥ {c['limit']} | {'yes' if c['pass'] else 'no'} |")
    if "fsr" in checks:
        c = checks["fsr"]
        out.append(f"| feet stay planted: FSR model / GT | {100 * c['model']:.2f}% / {100 * c['gt']:.2f}% = "
                   f"{c['ratio']:.2f} | ≤ {c['limit']} | {'yes' if c['pass'] else 'no'} |")
    if "freeze" in checks:
        c = checks["freeze"]
        out.append(f"| never freezes: min 5-s window speed / GT mean speed ({c['seconds']:.0f}-s looped test music, "
                   f"{c['genre']}) | {c['min_window_speed']:.3f} / {c['gt_mean_speed']:.3f} m/s = {c['ratio']:.2f} "
                   f"| ≥ {c['limit']} | {'yes' if c['pass'] else 'no'} |")
    if "genre" in checks:
        c = checks["genre"]
        out.append(f"| genre matters: kinetic distance two genres / two seeds ({c['items']} items) | "
                   f"{c['genre_distance']:.2f} / {c['seed_distance']:.2f} = {c['ratio']:.2f} | ≥ {c['limit']} "
                   f"| {'yes' if c['pass'] else 'no'} |")
    return out


def _r(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _yes(ok) -> str:
    return "yes" if ok else "**no**"


def _realism_table(table: dict) -> list[str]:
    bars = table["bars"]
    lines = [f"| genre | dances | min | speed gen / real (m/s) | speed ratio ({bars['speed']}) | spread gen / real (m) "
             f"| spread ratio ({bars['spread']}) | heading snaps/min gen / real ({bars['snaps']}) "
             f"| primitive energy gen / real (m²/s²) | energy ratio ({bars['primitive_energy']}) | pass |",
             "|" + "---|" * 11]
    for r in table["genres"]:
        g, real = r["generated"], r["real"] or {}
        lines.append(
            f"| {r['genre']} | {r['dances']} | {r['minutes']:.1f} | {_r(g['speed'], 3)} / {_r(real.get('speed'), 3)} "
            f"| {_r(r.get('speed_ratio'))} | {_r(g['spread'], 3)} / {_r(real.get('spread'), 3)} "
            f"| {_r(r.get('spread_ratio'))} | {_r(g['snaps_per_min'], 1)} / {_r(real.get('snaps_per_min'), 1)} "
            f"| {_r(g['primitive_energy'], 3)} / {_r(real.get('primitive_energy'), 3)} "
            f"| {_r(r.get('primitive_energy_ratio'))} | {_yes(r['pass'])} |")
    return lines


def _posture_table(table: dict) -> list[str]:
    """Posture per genre, generated beside real (no bar: what the contact sheets show, in numbers)."""
    rows = [r for r in table["genres"] if r["generated"].get("lean_deg") is not None]
    if not rows:
        return []
    pct = lambda v: "–" if v is None else f"{100 * v:.0f}"  # noqa: E731
    lines = ["Posture (no bar; read beside the contact sheets):", "",
             "| genre | spine lean gen / real (median °) | wrist above shoulder gen / real (% of frames) |",
             "|---|---|---|"]
    for r in rows:
        g, real = r["generated"], r["real"] or {}
        lines.append(f"| {r['genre']} | {_r(g['lean_deg'], 1)} / {_r(real.get('lean_deg'), 1)} "
                     f"| {pct(g.get('arms_up'))} / {pct(real.get('arms_up'))} |")
    return lines + [""]


def _against_truth(generated: dict, truth: dict) -> list[str]:
    """Generated / ground truth per genre (same items, same music)."""
    truth_rows = {r["genre"]: r["generated"] for r in truth["genres"]}
    lines = ["Generated against the ground truth of the same items:", "",
             "| genre | speed gen / truth | spread gen / truth | primitive energy gen / truth |", "|---|---|---|---|"]
    for r in generated["genres"]:
        t = truth_rows.get(r["genre"])
        if t is None:
            continue
        g = r["generated"]
        ratio = lambda key: g[key] / t[key] if t.get(key) else None  # noqa: E731
        lines.append(f"| {r['genre']} | {_r(ratio('speed'))} | {_r(ratio('spread'))} | {_r(ratio('primitive_energy'))} |")
    return lines + [""]


def realism_lines(realism: dict) -> list[str]:
    """The realism section: per-genre tables on the test items and on whole songs, then each song."""
    lines = ["## Realism per genre: generated against the real dancers of the genre", "",
             f"Row: {realism['row']}, the checkpoint's default settings. Real dancers: {realism['reference']}. "
             "Speed: mean root-relative joint speed; spread: std over time of root-relative joints; heading snap: "
             "the hip line turning ≥ 60° within 0.2 s; primitive energy: mean squared root-relative joint speed "
             "inside the placed 8-frame primitives (generated: the global stage's; real: cut where generation "
             "would place them). Ratios are generated / real; dances pooled per genre by duration. Posture: the "
             "pelvis-to-neck line's lean from vertical and how often a wrist is above its shoulder.", ""]
    for key, title in (("items", "Test items, whole length"),
                       ("items_truth", "The test items' own real dances (ground truth, same music)"),
                       ("songs", "Full-length songs")):
        table = realism.get(key)
        if table:
            lines += [f"### {title}: {'all genres pass' if table['pass'] else 'not all genres pass'}", ""]
            lines += _realism_table(table) + [""] + _posture_table(table)
        if key == "items_truth" and table and realism.get("items"):
            lines += _against_truth(realism["items"], table)
    if realism.get("song_dances"):
        lines += ["Each song:", "", "| song | genre | s | speed ratio | spread ratio | snaps/min | energy ratio | pass |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in realism["song_dances"]:
            lines.append(f"| {r['song']} | {r['genre']} | {r['seconds']:.0f} | {_r(r.get('speed_ratio'))} "
                         f"| {_r(r.get('spread_ratio'))} | {r['generated']['snaps_per_min']:.1f} "
                         f"| {_r(r.get('primitive_energy_ratio'))} | {_yes(r['pass'])} |")
        lines.append("")
    return lines


def markdown(result: dict) -> str:
    """The whole report as markdown."""
    meta = result["meta"]
    rows = result["rows"]
    cut = "" if meta["seconds"] is None else f", each cut to its first {meta['seconds']:g} s"
    lines = [
        "# Lodge evaluation", "",
        f"- date: {meta['date']}",
        f"- commit: {meta['commit']}",
        f"- hardware: {meta['hardware']}",
        f"- checkpoint: {meta['checkpoint']} ({meta['training_data']})",
        f"- data: {meta['data']} split `{meta['split']}`, {meta['items']} items, {meta['frames']} frames "
        f"({meta['frames'] / 1800:.1f} min){cut}",
        f"- metrics: {'official-script behaviour (--official)' if meta['official'] else 'correct definitions (lodge/metrics/README.md)'}; "
        "FSR = foot skating ratio; run time = generation seconds per minute of dance (music features precomputed)",
        f"- command: `{meta['command']}`", "",
    ]
    if result.get("realism"):
        lines += realism_lines(result["realism"])
    if not rows:
        return "\n".join(lines) + "\n"
    lines += ["## Table 1 (shape of the paper's)", ""]
    lines += _table([r for r in rows if r["group"] in ("main", "baseline")])
    lines += ["", "Notes:"] + [f"- {r['name']}: {r['note']}" for r in rows if r["note"] and r["group"] != "ablation"]
    errors = [r for r in rows if r["error"]]
    lines += [f"- {r['name']}: not computed: {r['error']}" for r in errors]
    ablation = [r for r in rows if r["group"] == "ablation"]
    if ablation:
        lines += ["", "## Ablations (DDIM)", ""] + _table(ablation)
    if result.get("checks"):
        lines += ["", "## Acceptance checks", ""] + _check_lines(result["checks"])
    lines += ["", "## Published (FineDance, paper Table 1): different data, not comparable", ""]
    lines += _table([dict(p, runtime_s_per_min=None) for p in PUBLISHED_FINEDANCE])
    return "\n".join(lines) + "\n"


def write_report(result: dict, out_dir: str | Path) -> tuple[Path, Path]:
    """Write results.md and results.json into ``out_dir`` (created); returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "results.md", out / "results.json"
    md.write_text(markdown(result))
    js.write_text(json.dumps(result, indent=1, default=_json_default))
    return md, js


def _json_default(obj):
    try:
        return float(obj)
    except (TypeError, ValueError):
        return str(obj)
