"""What one request writes: the video, the timeline, the GLB and the other downloads (BVH, SMPL-X,
dance.npz), into the request's own folder."""
from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from .errors import UserError
from .options import Request

log = logging.getLogger("lodge_app")

CHUNKS_FOLDER = "video_chunks"  # in a version's folder: its video's chunks, which later edits reuse


@dataclass
class Result:
    """What one request produced (paths inside the request's own folder)."""

    video: Path | None  # None until the video is rendered (an edit shows the rest first)
    timeline: Path | None
    glb: Path | None
    files: list[Path]
    summary: str
    timings: dict[str, float] = field(default_factory=dict)
    npz: Path | None = None  # the dance.npz (also among `files`)
    segments: list[tuple[float, float]] = field(default_factory=list)  # the dance's segments, in seconds


def render_outputs(dance, music_path: Path | None, out: Path, name: str, request: Request, stages,
                   smpl_dir: Path | None = None) -> Result:
    """Video, timeline, GLB and the other downloads of `dance`, written into `out` as `name`.*; `stages` is
    the request's :class:`~lodge_app.estimate.StageProgress` (this is its "render" stage)."""
    # The video is most of the rendering time; the timeline and exports share the rest.
    video = render_video_file(dance, music_path, out, name, request, stages, smpl_dir, share=0.9)
    result = render_quick_outputs(dance, out, name, music_path)
    stages("render", 0.93)
    return add_video_outputs(result, dance, video, out, name)


def render_quick_outputs(dance, out: Path, name: str, music_path: Path | None = None) -> Result:
    """What shows as soon as the motion exists: the timeline, the dance.npz and the GLB (3D view), in
    seconds; the video and the BVH / SMPL-X downloads follow (:func:`add_video_outputs`)."""
    import renderer

    timeline = _optional(lambda: renderer.render_timeline(dance, out / f"{name}.timeline.png",
                                                          music_path=music_path), "timeline")
    npz = dance.save_npz(out / f"{name}.dance.npz")
    glb = _optional(lambda: renderer.export_glb(dance, out / f"{name}.glb"), "GLB")
    return Result(video=None, timeline=timeline, glb=glb, files=[p for p in (glb, npz) if p is not None],
                  summary="", npz=npz, segments=[tuple(r) for r in dance.segment_ranges()])


def render_video_file(dance, music_path: Path | None, out: Path, name: str, request: Request, stages,
                      smpl_dir: Path | None = None, share: float = 1.0, reuse: Path | None = None) -> Path:
    """The MP4 of `dance` (the music as its sound track when given), as `out/name.mp4`; the "render"
    stage goes from 0 to `share` on the way. UserError when it fails.

    The video is rendered in chunks, one per segment, kept in `out`/:data:`CHUNKS_FOLDER`
    (:mod:`renderer.chunks`); `reuse`: the folder of the version `dance` was edited from, whose chunks
    are reused wherever every frame would be drawn the same (so an edit renders only what changed)."""
    import renderer

    frames_total = max(1, int(round(dance.duration * request.video_fps)))

    def on_frame(done: int, total: int | None = None) -> None:
        stages("render", share * done / max(total or frames_total, 1))

    video = out / f"{name}.mp4"
    try:
        renderer.render_video(dance, video, music_path=music_path, size=int(request.video_size),
                              fps=int(request.video_fps), body=request.body, camera=request.camera,
                              smpl_dir=smpl_dir, progress=on_frame, chunks=out / CHUNKS_FOLDER,
                              reuse=Path(reuse) / CHUNKS_FOLDER if reuse is not None else None)
    except Exception as err:  # noqa: BLE001 - EGL missing, ffmpeg failure, ...
        log.error("rendering failed:\n%s", traceback.format_exc())
        raise UserError(f"The dance was generated, but rendering the video failed: {err}. "
                        "Try a smaller video size or the mannequin body.", title="Render failed") from err
    if not video.is_file():
        raise UserError("The dance was generated, but no video was written.", title="Render failed")
    return video


def add_video_outputs(result: Result, dance, video: Path, out: Path, name: str) -> Result:
    """`result` (from :func:`render_quick_outputs`) with the video and the BVH / SMPL-X downloads; the
    downloads in their usual order: video, BVH, SMPL-X, GLB, dance.npz."""
    bvh = smplx_npz = None
    try:
        from lodge import export as lodge_export
    except Exception:  # noqa: BLE001 - exports not available in this copy
        lodge_export = None
        log.warning("lodge.export is missing; BVH and SMPL-X downloads skipped")
    if lodge_export is not None:
        bvh = _optional(lambda: lodge_export.export_bvh(dance, out / f"{name}.bvh"), "BVH")
        smplx_npz = _optional(lambda: lodge_export.export_smplx_npz(dance, out / f"{name}.smplx.npz"), "SMPL-X")
    files = [video] + [p for p in (bvh, smplx_npz, result.glb, result.npz) if p is not None]
    return replace(result, video=video, files=[Path(p) for p in files])


def _optional(make: Callable[[], object], what: str) -> Path | None:
    """Run one optional output; a failure is logged and that output left out."""
    try:
        made = make()
    except Exception:  # noqa: BLE001
        log.warning("could not write the %s output", what, exc_info=True)
        return None
    return Path(made) if made is not None and Path(made).is_file() else None
