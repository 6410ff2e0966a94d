"""What one request writes: the video, the timeline, the GLB and the other downloads (BVH, SMPL-X,
dance.npz), into the request's own folder."""
from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import UserError
from .options import Request

log = logging.getLogger("lodge_app")


@dataclass
class Result:
    """What one request produced (paths inside the request's own folder)."""

    video: Path
    timeline: Path | None
    glb: Path | None
    files: list[Path]
    summary: str
    timings: dict[str, float] = field(default_factory=dict)


def render_outputs(dance, music_path: Path, out: Path, name: str, request: Request, stages,
                   smpl_dir: Path | None = None) -> Result:
    """Video, timeline, GLB and the other downloads of `dance`, written into `out` as `name`.*; `stages` is
    the request's :class:`~lodge_app.estimate.StageProgress` (this is its "render" stage)."""
    import renderer

    frames_total = max(1, int(round(dance.duration * request.video_fps)))
    # The video is most of the rendering time; the timeline and exports share the rest.
    video_share = 0.9

    def on_frame(done: int, total: int | None = None) -> None:
        stages("render", video_share * done / max(total or frames_total, 1))

    video = out / f"{name}.mp4"
    try:
        renderer.render_video(dance, video, music_path=music_path, size=int(request.video_size),
                              fps=int(request.video_fps), body=request.body, camera=request.camera,
                              smpl_dir=smpl_dir, progress=on_frame)
    except Exception as err:  # noqa: BLE001 - EGL missing, ffmpeg failure, ...
        log.error("rendering failed:\n%s", traceback.format_exc())
        raise UserError(f"The dance was generated, but rendering the video failed: {err}. "
                        "Try a smaller video size or the mannequin body.", title="Render failed") from err
    if not video.is_file():
        raise UserError("The dance was generated, but no video was written.", title="Render failed")

    files: list[Path] = [video]
    timeline = _optional(lambda: renderer.render_timeline(dance, out / f"{name}.timeline.png",
                                                          music_path=music_path), "timeline")
    stages("render", video_share + 0.03)
    npz = dance.save_npz(out / f"{name}.dance.npz")
    glb = _optional(lambda: renderer.export_glb(dance, out / f"{name}.glb"), "GLB")
    stages("render", video_share + 0.06)
    bvh = smplx_npz = None
    try:
        from lodge import export as lodge_export
    except Exception:  # noqa: BLE001 - exports not available in this copy
        lodge_export = None
        log.warning("lodge.export is missing; BVH and SMPL-X downloads skipped")
    if lodge_export is not None:
        bvh = _optional(lambda: lodge_export.export_bvh(dance, out / f"{name}.bvh"), "BVH")
        smplx_npz = _optional(lambda: lodge_export.export_smplx_npz(dance, out / f"{name}.smplx.npz"), "SMPL-X")
    files += [p for p in (bvh, smplx_npz, glb, npz) if p is not None]
    return Result(video=video, timeline=timeline, glb=glb, files=[Path(p) for p in files], summary="")


def _optional(make: Callable[[], object], what: str) -> Path | None:
    """Run one optional output; a failure is logged and that output left out."""
    try:
        made = make()
    except Exception:  # noqa: BLE001
        log.warning("could not write the %s output", what, exc_info=True)
        return None
    return Path(made) if made is not None and Path(made).is_file() else None
