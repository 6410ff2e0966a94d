"""Check the CMU retargeting: per-genre error numbers and side-by-side stick-figure PNGs.

`python -m lodge.data.check_retarget --out DIR --source DIR` (or LODGE_CMU_DIR instead of `--source`) writes `retarget_report.json` and one
PNG per genre (source DAZ skeleton left, retargeted SMPL right, a few frames of one take).
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from ..constants import PARENTS
from ..bvh import Bvh, read_bvh
from .cmu import CMU_DIR_ENV, source_folder
from .retarget import Retargeted, bone_angle_errors, floor_violation, position_errors, retarget


def render_side_by_side(bvh: Bvh, ret: Retargeted, frames: list[int], path: Path, title: str = "") -> None:
    """Stick figures, source (blue, offset left) and retargeted (red, offset right), seen from the front and side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    src_par = [j.parent for j in bvh.joints]
    fig, axes = plt.subplots(2, len(frames), figsize=(2.6 * len(frames), 6.2), squeeze=False)
    for col, f in enumerate(frames):
        centre = ret.joints[f, 0, [0, 2]]
        for row, (h, name) in enumerate(((0, "front x-y"), (2, "side z-y"))):
            ax = axes[row, col]
            for pts, par, colour, dx in ((ret.source_joints[f], src_par, "tab:blue", -0.5),
                                         (ret.joints[f], PARENTS, "tab:red", 0.5)):
                c = centre[0] if h == 0 else centre[1]
                for k, p in enumerate(par):
                    if p >= 0:
                        ax.plot([pts[k, h] - c + dx, pts[p, h] - c + dx], [pts[k, 1], pts[p, 1]], color=colour, lw=1.5)
            ax.axhline(0.0, color="k", lw=0.5)
            ax.set_xlim(-1.3, 1.3)
            ax.set_ylim(-0.2, 2.0)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_title(f"frame {f} {name}", fontsize=7)
    fig.suptitle(title + "  (blue: source DAZ, red: retargeted SMPL)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--source", type=Path, default=None,
                    help=f"the CMU dance folder (BVH files + manifest.csv); default: ${CMU_DIR_ENV}")
    ap.add_argument("--max-takes", type=int, default=4, help="takes per genre to measure")
    args = ap.parse_args(argv)
    try:
        args.source = source_folder(args.source)
    except FileNotFoundError as err:
        ap.exit(2, f"error: {err}\n")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(args.source / "manifest.csv")))
    report: dict[str, dict] = {}
    for genre in sorted({r["genre"] for r in rows}):
        takes = [r for r in rows if r["genre"] == genre][: args.max_takes]
        pe, be, fv = [], [], []
        for k, r in enumerate(takes):
            bvh = read_bvh(args.source / r["file"])
            ret = retarget(bvh)
            pe.append(position_errors(ret, bvh.names).ravel())
            be.append(bone_angle_errors(ret, bvh.names).ravel())
            fv.append(floor_violation(ret, bvh.names))
            if k == 0:
                n = len(ret.joints)
                render_side_by_side(bvh, ret, [int(x) for x in np.linspace(0, n - 1, 6)],
                                    args.out / f"retarget_{genre}.png", r["file"])
        pe, be, fv = np.concatenate(pe), np.concatenate(be), np.concatenate(fv)
        report[genre] = {
            "takes": len(takes), "pos_err_mean_m": float(pe.mean()), "pos_err_max_m": float(pe.max()),
            "bone_angle_mean_deg": float(be.mean()), "bone_angle_max_deg": float(be.max()),
            "below_floor_max_m": float(fv.max()), "below_floor_frames_over_2cm": float((fv > 0.02).mean()),
        }
        print(genre, report[genre], flush=True)
    (args.out / "retarget_report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
