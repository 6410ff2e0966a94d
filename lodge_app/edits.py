"""The choreographer's edits in the app: a session's versions of its dance, and one edit end to end (load
the version or the dance.npz sent, run the library's reroll / copy_move / restyle, write the new version's
outputs with :mod:`lodge_app.outputs`).

A session's history is plain JSON-safe data (it lives in a ``gr.State``): the versions, each a folder of
files in the app's job folder (so the workspace cleaner removes them with every other result), at most
:data:`MAX_VERSIONS` of them. Nothing here imports Gradio; failures raise :class:`UserError`.
"""
from __future__ import annotations

import logging
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lodge.checks import MAX_SEED, InputError

from . import studio as studio_module
from . import workspace
from .errors import UserError, edit_user_error, without_paths
from .estimate import Job, StageProgress
from .gpu import GPU_MIN_SECONDS, describe_device, gpu_seconds, wrap_for_gpu
from .options import Request
from .outputs import Result, add_video_outputs, render_quick_outputs, render_video_file
from .summary import summary_markdown

log = logging.getLogger("lodge_app")

MAX_VERSIONS = 20  # per session; the oldest is dropped (and its files deleted) beyond this
OPS = ("reroll", "copy_move", "restyle")
RENDER_KEYS = ("camera", "body", "video_size", "video_fps")
History = dict[str, Any]  # {"versions": [version, ...], "current": n, "next": n, "music": path, "render": {...}, "stem": str}


# ---------------------------------------------------------------------------------------------- the diffusion


def _edit(op: str, dance, kwargs: dict, weights: dict[str, float] | None = None, report=None):
    """One library edit on the loaded pipeline (the only GPU work of an edit); module-level so that
    ZeroGPU can wrap it, like :func:`lodge_app.studio._diffuse`."""
    stages = StageProgress(weights, report) if weights and report is not None else None
    return getattr(studio_module._PIPE, op)(dance, progress=stages, **kwargs)


def _edit_gpu_seconds(op, dance, kwargs, weights=None, report=None) -> int:
    """`spaces.GPU` duration for :func:`_edit`: at most what generating the whole dance again reserves."""
    from lodge.sampling import SamplingOptions

    if dance.source is None:
        return GPU_MIN_SECONDS
    return gpu_seconds(dance.duration, SamplingOptions.from_dict(dance.source.options))


_edit_on_device = wrap_for_gpu(_edit, _edit_gpu_seconds)


# ---------------------------------------------------------------------------------------------- versions


def version_record(n: int, label: str, parent: int | None, folder: Path, result: Result) -> dict[str, Any]:
    """One version as the history keeps it (paths as text)."""
    text = lambda p: str(p) if p is not None else None  # noqa: E731
    return {"n": n, "label": f"v{n} {label}", "parent": parent, "folder": str(folder), "npz": text(result.npz),
            "video": text(result.video), "timeline": text(result.timeline), "glb": text(result.glb),
            "files": [str(p) for p in result.files], "summary": result.summary,
            "segments": [[float(a), float(b)] for a, b in result.segments]}


def new_history(result: Result, music: Path | None, request: Request, stem: str, label: str = "original") -> History:
    """The history of a freshly generated dance: its one version, "v1 original"."""
    folder = Path(result.npz).parent if result.npz else Path(result.video).parent
    return {"versions": [version_record(1, label, None, folder, result)], "current": 1, "next": 2,
            "music": str(music) if music else None, "render": {k: getattr(request, k) for k in RENDER_KEYS},
            "stem": stem}


def version(history: History | None, n: int | None = None) -> dict[str, Any]:
    """Version `n` (default: the current one); UserError when there is none."""
    if not history or not history.get("versions"):
        raise UserError("There is no dance to edit yet: generate one first (or send a dance.npz).", title="No dance")
    n = history["current"] if n is None else n
    for v in history["versions"]:
        if v["n"] == n:
            return v
    raise UserError(f"Version v{n} is no longer kept (this page keeps the last {MAX_VERSIONS}).",
                    title="Version not kept")


def choose(history: History | None, n: int | None) -> History:
    """The history with version `n` made current."""
    chosen = version(history, None if n is None else int(n))
    return {**history, "current": chosen["n"]}


def undo(history: History | None) -> History:
    """Back to the version the current one was made from."""
    current = version(history)
    if current["parent"] is None:
        raise UserError("Nothing to undo: this is the dance before any edit.", title="Nothing to undo")
    return choose(history, current["parent"])


def version_choices(history: History | None) -> list[tuple[str, int]]:
    """(label, number) of every kept version, oldest first."""
    return [(v["label"], v["n"]) for v in (history or {}).get("versions", [])]


def segment_choices(v: dict[str, Any]) -> list[tuple[str, int]]:
    """(label, number) of a version's segments: "3: 25.6–34.1 s"."""
    return [(f"{i}: {a:.1f}–{b:.1f} s", i) for i, (a, b) in enumerate(v.get("segments", []))]


def _add(history: History, record: dict[str, Any], root: Path) -> History:
    """The history with `record` added and made current; beyond :data:`MAX_VERSIONS` the oldest goes (its
    folder, inside the job folder `root`, too)."""
    versions = [*history["versions"], record]
    while len(versions) > MAX_VERSIONS:
        dropped = versions.pop(0)
        _remove_folder(Path(dropped["folder"]), root)
    return {**history, "versions": versions, "current": record["n"], "next": record["n"] + 1}


def _remove_folder(folder: Path, root: Path) -> None:
    """Delete a dropped version's folder (only one inside the app's job folder `root`)."""
    try:
        if folder.resolve().is_relative_to(root.resolve()) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    except OSError:
        pass


def _label(op: str, dance, kwargs: dict) -> str:
    """What an edit did, for the versions list: "reroll 3,4", "copy move 12.5→40 s mirrored", ..."""
    if op == "reroll":
        segments = dance.edits[-1].get("segments", [])
        return f"reroll {','.join(map(str, segments))}" + (" new moves" if kwargs.get("new_moves") else "")
    if op == "copy_move":
        return (f"copy move {float(kwargs['source_seconds']):g}→{float(kwargs['target_seconds']):g} s"
                + (" mirrored" if kwargs.get("mirrored") else ""))
    return f"genres {dance.edits[-1].get('schedule', kwargs.get('schedule'))}"


def _edit_row(dance) -> str:
    """The summary's line about the last edit: what, its seed, and the time it changed."""
    last = dance.edits[-1]
    frames = ", ".join(f"{a / dance.fps:.1f}–{b / dance.fps:.1f} s" for a, b in last.get("frames", []))
    segments = ", ".join(map(str, last.get("segments", [])))
    return (f"{str(last['op']).replace('_', ' ')} of segment(s) {segments} with seed {last['seed']}; "
            f"changed {frames} (edit {len(dance.edits)} of this dance)")


# ---------------------------------------------------------------------------------------------- the edit


class Editor:
    """Runs edits for the page with the studio's loaded model, renderer settings and job folder."""

    def __init__(self, studio):
        self.studio = studio

    def _base(self, history: History | None, dance_file, music) -> tuple[Any, History, int | None]:
        """(the dance to edit, the history it belongs to, its version number). A dance.npz sent replaces
        the session's history with a new one that starts from it ("v1 sent <name>", no video)."""
        from lodge.dance import Dance

        if dance_file:
            path = Path(dance_file)
            try:
                dance = Dance.load_npz(path)
            except Exception:  # noqa: BLE001 - not a zip, missing keys, wrong shapes
                raise UserError(f"'{path.name}' is not a dance.npz saved by Lodge Studio or `python -m lodge`.",
                                title="Unreadable dance file") from None
            folder = Path(tempfile.mkdtemp(prefix="sent_v1_", dir=workspace.job_root(self.studio.workdir)))
            npz = Path(shutil.copy2(path, folder / "v1.dance.npz"))
            result = Result(video=None, timeline=None, glb=None, files=[npz], summary="", npz=npz,
                            segments=[tuple(r) for r in dance.segment_ranges()])
            render = (history or {}).get("render") or {}
            request = Request(genre="", **render) if render else Request(genre="", video_size=384 if
                                                                          self.studio.device == "cpu" else 512)
            music_path = Path(music) if music and Path(music).is_file() else None
            fresh = new_history(result, music_path, request, workspace.safe_stem(path.name.removesuffix(".dance.npz")),
                                label=f"sent {path.name if len(path.name) <= 48 else path.name[:47] + '…'}")
            return dance, fresh, 1
        current = version(history)
        npz = Path(current["npz"]) if current.get("npz") else None
        if npz is None or not npz.is_file():
            raise UserError("This version's files have been cleaned up (results are kept for "
                            f"{self.studio.settings.keep_seconds // 60} min); generate the dance again.",
                            title="Dance expired")
        workspace.touch_upload(self.studio.workdir, Path(current["folder"]))  # keep it while it is edited
        return Dance.load_npz(npz), history, current["n"]

    def edit(self, history: History | None, op: str, kwargs: dict, dance_file=None, music=None,
             report=None) -> Iterator[tuple[History, dict[str, Any]]]:
        """Make one edit; yields (history, new version) twice: first with the timeline, 3D view and
        dance.npz (as soon as the motion exists), then with the video and every download too.

        `kwargs`: the library call's arguments (``segments``/``seed``/``new_moves``, ...). The new version
        is rendered once, with the session's render settings and music.
        """
        if op not in OPS:
            raise ValueError(op)
        if self.studio.pipe is None:
            raise UserError(self.studio.load_error or "No dance model is loaded.", title="Model not loaded")
        report = report or (lambda fraction, desc: None)
        t_start = time.perf_counter()
        dance, history, parent = self._base(history, dance_file, music)
        request = Request(genre="", **history["render"])
        music_path = Path(history["music"]) if history.get("music") else None
        if music_path is not None and not music_path.is_file():
            log.warning("the music of this dance is gone; the edited video is silent")
            music_path = None
        if music_path is not None:
            self.studio._touch(music_path)
        kwargs = dict(kwargs)
        if kwargs.get("seed") in (None, ""):
            kwargs["seed"] = random.randint(0, MAX_SEED)
        stages = StageProgress(self._weights(dance, op, kwargs, request), report)
        studio_module._use_pipeline(self.studio.pipe)
        try:
            edited = _edit_on_device(op, dance, kwargs, stages.weights, report)
        except InputError as err:  # EditError, GenreError, ScheduleError, a seed out of range
            raise edit_user_error(err) from None
        except Exception as err:  # noqa: BLE001 - out of memory, ...
            log.exception("edit failed")
            raise UserError(f"The edit could not be made: {without_paths(str(err))}", title="Edit failed") from err

        n = history["next"]
        parent_folder = Path(version(history, parent)["folder"])  # its video's chunks are reused
        stem = history.get("stem") or "dance"
        root = workspace.job_root(self.studio.workdir)
        out = Path(tempfile.mkdtemp(prefix=f"{stem}_v{n}_", dir=root))
        name = f"{stem}_v{n}"
        label = _label(op, edited, kwargs)
        latest = max(v["n"] for v in history["versions"])
        if parent != latest:
            label += f" (from v{parent})"
        t_render = time.perf_counter()
        result = render_quick_outputs(edited, out, name, music_path)
        timings = {**edited.timings, "render": time.perf_counter() - t_render}
        result.summary = self._summary(edited, timings, t_start)
        history = _add(history, version_record(n, label, parent, out, result), root)
        yield history, version(history, n)

        video = render_video_file(edited, music_path, out, name, request, stages, self.studio.settings.smpl_dir,
                                  share=0.95, reuse=parent_folder)
        result = add_video_outputs(result, edited, video, out, name)
        timings["render"] = time.perf_counter() - t_render
        result.summary = self._summary(edited, timings, t_start)
        stages("render", 1.0)
        record = version_record(n, label, parent, out, result)
        history = {**history, "versions": [record if v["n"] == n else v for v in history["versions"]]}
        yield history, record

    def _weights(self, dance, op: str, kwargs: dict, request: Request) -> dict[str, float]:
        """Progress weights: the diffusion of the edited segments (estimated as that much music) and the
        video of about one segment more (the chunks the edit changes, and the follow camera's reach past
        it; :mod:`renderer.chunks`)."""
        from lodge.constants import SEG_LEN
        from lodge.sampling import SamplingOptions

        options = SamplingOptions.from_dict(dance.source.options) if dance.source is not None else SamplingOptions()
        n_segments = len(kwargs.get("segments") or [0]) if op == "reroll" else 1
        estimator = self.studio.estimator
        video = dict(video_size=request.video_size, video_fps=request.video_fps, body=request.body)
        part = estimator.estimate(Job.from_options(n_segments * SEG_LEN / dance.fps, options, **video))
        shown = min(dance.duration, (n_segments + 1) * SEG_LEN / dance.fps)
        whole = estimator.estimate(Job.from_options(shown, options, **video))
        new_moves = op != "reroll" or bool(kwargs.get("new_moves"))
        weights = {"music": 0.0, "global": part["global"] if new_moves else 0.0, "local": part["local"],
                   "render": whole["render"]}
        total = sum(weights.values()) or 1.0
        return {k: v / total for k, v in weights.items()}

    def _summary(self, dance, timings: dict[str, float], t_start: float) -> str:
        """The usual summary of the edited dance, with a line about the edit."""
        from lodge.sampling import SamplingOptions

        timings = {**timings, "total": time.perf_counter() - t_start}
        options = SamplingOptions.from_dict(dance.source.options)
        return summary_markdown(dance, timings, describe_device(self.studio.device), options,
                                extra=[("Edit", _edit_row(dance))])
