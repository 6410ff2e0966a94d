"""One generation request, end to end: check the inputs, analyse the music, run both diffusion
stages, render the video and timeline, write the downloads, and summarise.

Nothing here imports Gradio: failures the user can fix raise :class:`UserError` with a message meant
for the page; :mod:`lodge_app.ui` turns those into ``gr.Error``.
"""
from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from lodge import checks
from lodge.checks import format_duration
from lodge.audio import AudioError, SongTooLongError, load_audio, music_features
from lodge.constants import FPS, SAMPLE_RATE
from lodge.diffusion import DEFAULT_DDIM_STEPS

from .estimate import STAGES, Job, StageProgress, TimeEstimator
from .gpu import describe_device, gpu_seconds, wrap_for_gpu
from .settings import AppSettings

log = logging.getLogger("lodge_app")

MIN_SECONDS = checks.MIN_SECONDS
VIDEO_SIZES = (256, 384, 512, 720)  # pixels, square
VIDEO_FPS = (FPS, FPS // 2)
JOBS_DIR = "jobs"  # inside the instance folder: one sub-folder per request
# Report = callback(overall_fraction, description) for the page's progress bar.
Report = Callable[[float, str], None]


class UserError(Exception):
    """A problem the user can fix; the message is shown on the page as is."""

    def __init__(self, message: str, title: str = "Cannot generate"):
        super().__init__(message)
        self.title = title


@dataclass(frozen=True)
class Options:
    """The user's choices for one request (already converted from the page's widgets)."""

    genre: str
    seed: int = 0
    duration: float | None = None  # None: the whole song
    soft: float = 1.0
    sampler: str = "ddim"
    steps: int = DEFAULT_DDIM_STEPS
    camera: str = "follow"
    body: str = "mannequin"
    video_size: int = 512
    video_fps: int = FPS
    beat_sync: bool = False  # re-time the moves onto the beats (lodge.post.beat_sync)


def _pick(value: object, choices: tuple[int, ...], what: str, title: str) -> int:
    try:
        number = checks.whole_number(value, what, min(choices), max(choices))
    except checks.InputError:
        number = -1
    if number not in choices:
        raise UserError(f"{what} must be one of {', '.join(map(str, choices))}, not {str(value)[:20]!r}.", title=title)
    return number


def read_options(genre, seed, length_mode, first_seconds, soft, quality, steps, camera, body, video_size, video_fps,
                 beat_sync=False, max_seconds: float | None = checks.DEFAULT_MAX_SECONDS) -> Options:
    """The page's widget values (or what an API client sent) -> checked :class:`Options`.

    Raises:
        UserError: a value out of range or not a number, with a sentence saying which and what is allowed.
    """
    first = str(length_mode).lower().startswith("first")
    ddpm = str(quality).lower().startswith(("ddpm", "full"))
    try:
        seed_value = checks.check_seed(0 if seed in (None, "") else seed)
    except checks.InputError as err:
        raise UserError(str(err), title="Seed out of range") from None
    try:
        duration = checks.check_seconds(first_seconds, max_seconds) if first else None
    except checks.InputError as err:
        raise UserError(str(err), title="Length out of range") from None
    try:
        soft_value = checks.check_soft(1.0 if soft in (None, "") else soft)
    except checks.InputError as err:
        raise UserError(str(err), title="Soft-cue strength out of range") from None
    try:
        steps_value = DEFAULT_DDIM_STEPS if ddpm or steps in (None, "") else checks.check_steps(steps)
    except checks.InputError as err:
        raise UserError(str(err), title="Step count out of range") from None
    return Options(
        genre=str(genre or ""),
        seed=seed_value,
        duration=duration,
        soft=soft_value,
        sampler="ddpm" if ddpm else "ddim",
        steps=steps_value,
        camera="fixed" if str(camera).lower().startswith("fixed") else "follow",
        body=str(body or "mannequin"),
        video_size=_pick(512 if video_size in (None, "") else video_size, VIDEO_SIZES, "The video size",
                         "Unknown video size"),
        video_fps=_pick(FPS if video_fps in (None, "") else video_fps, VIDEO_FPS, "The video frame rate",
                        "Unknown frame rate"),
        beat_sync=bool(beat_sync),
    )


def without_paths(message: str) -> str:
    """`message` with every absolute file path cut down to its last part (never show server folders)."""
    return re.sub(r"(?<![\w.:/\\])(?:[A-Za-z]:)?[\\/](?:[^\s'\"\\/]+[\\/])+([^\s'\"\\/]*)", r"\1", message)


@dataclass
class Result:
    """What one request produced (paths inside the request's own folder)."""

    video: Path
    timeline: Path | None
    glb: Path | None
    files: list[Path]
    summary: str
    timings: dict[str, float] = field(default_factory=dict)


# The loaded pipeline, as a module global: on a ZeroGPU Space the GPU function runs in a forked worker
# that inherits it, so only small, picklable arguments cross into that process.
_PIPE = None


def _use_pipeline(pipe) -> None:
    """Make `pipe` the one :func:`_diffuse` runs."""
    global _PIPE
    _PIPE = pipe


def _diffuse(features, genre: str, seed: int, soft: float, sampler: str, steps: int | None,
             weights: dict[str, float] | None = None, report: Report | None = None, beat_sync: bool = False):
    """The two diffusion stages, the only GPU work. Module-level so that ZeroGPU can wrap it.

    `report` must be picklable on ZeroGPU (a :class:`ProgressReport` around ``gr.Progress`` is).
    """
    stages = StageProgress(weights, report) if weights and report is not None else None
    return _PIPE(features, genre, seed=seed, soft=soft, sampler=sampler, steps=steps, beat_sync=beat_sync,
                 progress=stages)


def _diffuse_gpu_seconds(features, genre, seed, soft, sampler, steps, weights=None, report=None, beat_sync=False) -> int:
    """`spaces.GPU` duration for :func:`_diffuse`: grows with the song and the step count."""
    return gpu_seconds(features.seconds, sampler, steps)


_diffuse_on_device = wrap_for_gpu(_diffuse, _diffuse_gpu_seconds)


def _safe_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name).stem).strip("_")
    return (stem or "music")[:40]


def make_instance_folder() -> Path:
    """A temporary folder of its own for this server process (removed at exit); Gradio's cache lives
    there too (GRADIO_TEMP_DIR), so results written into it are served without being copied."""
    base = os.environ.get("LODGE_TMPDIR") or tempfile.gettempdir()
    folder = Path(tempfile.mkdtemp(prefix="lodge_studio_", dir=base)).resolve()
    atexit.register(shutil.rmtree, folder, True)
    return folder


def clean_folder(root: Path, max_age_s: float, keep: Callable[[Path], bool] = lambda p: False) -> int:
    """Delete request folders under `root/jobs` older than `max_age_s` and empty folders Gradio's cache
    left behind; returns how many were removed."""
    removed = 0
    now = time.time()
    jobs = root / JOBS_DIR
    for child in list(jobs.iterdir()) if jobs.is_dir() else []:
        try:
            if child.is_dir() and now - child.stat().st_mtime > max_age_s:
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
        except OSError:
            pass
    for child in list(root.iterdir()) if root.is_dir() else []:
        try:
            if child.is_dir() and child.name != JOBS_DIR and not keep(child) and not any(child.iterdir()) \
                    and now - child.stat().st_mtime > 1.0:
                child.rmdir()
                removed += 1
        except OSError:
            pass
    return removed


def audio_user_error(err: AudioError) -> UserError:
    """The library's audio error for the page: titled by its type, and the length limit, whose library
    message speaks to programmers (max_seconds=None, --max-seconds), reworded for the app's users."""
    if isinstance(err, SongTooLongError):
        message = (f"'{err.name}' is {format_duration(err.seconds)} long; this app accepts songs up to "
                   f"{format_duration(err.limit)}. Open 'Advanced' and choose 'First N seconds', or trim the song.")
    else:
        message = str(err)
    return UserError(message, title=err.title)


class Studio:
    """The loaded model plus everything a request needs; one instance per app."""

    def __init__(self, settings: AppSettings, pipe=None, load_error: str | None = None, workdir: Path | None = None):
        self.settings = settings
        self.pipe = pipe
        self.load_error = load_error
        self.workdir = Path(workdir) if workdir is not None else make_instance_folder()
        self._cleaner: threading.Thread | None = None
        self.estimator = TimeEstimator()
        if pipe is not None:
            self.estimator.ddpm_steps = int(getattr(pipe.cfg, "diffusion_steps", 1000))

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, settings: AppSettings, workdir: Path | None = None) -> "Studio":
        """Load the checkpoint; a missing or broken one gives a Studio that explains why (no crash).

        `workdir`: where request folders go (default: a new temporary folder for this instance)."""
        try:
            from lodge.pipeline import DEFAULT_CHECKPOINT, LodgePipeline
        except Exception as err:  # noqa: BLE001 - a broken install must still show a page
            log.exception("cannot import the pipeline")
            return cls(settings, None, f"The Lodge library could not be loaded: {err}", workdir)
        path = settings.checkpoint or DEFAULT_CHECKPOINT
        try:
            pipe = LodgePipeline.from_pretrained(path, device=settings.device)
        except Exception as err:  # noqa: BLE001 - CheckpointError, missing files, wrong device, ...
            log.error("could not load the checkpoint %s: %s", path, err)
            hint = ("The default weights are not in this copy of the project (lodge/weights/default). "
                    "Start the app with --checkpoint PATH or set LODGE_CHECKPOINT to a checkpoint folder."
                    if settings.checkpoint is None else "Check the --checkpoint / LODGE_CHECKPOINT path.")
            return cls(settings, None, f"No dance model could be loaded from '{path}': {err}. {hint}", workdir)
        _use_pipeline(pipe)
        studio = cls(settings, pipe, workdir=workdir)
        if settings.calibrate:
            try:
                studio.estimator.calibrate(pipe)
            except Exception:  # noqa: BLE001 - estimates then use built-in figures
                log.warning("timing calibration failed; using built-in estimates", exc_info=True)
        return studio

    @property
    def ready(self) -> bool:
        """True when a model is loaded."""
        return self.pipe is not None

    @property
    def genres(self) -> list[str]:
        """Genres the loaded checkpoint knows (empty without a model)."""
        return list(self.pipe.genres) if self.pipe is not None else []

    @property
    def default_soft(self) -> float:
        """The loaded checkpoint's default soft-cue strength s (1, the paper's best, without a model)."""
        return float(self.pipe.default_soft) if self.pipe is not None else 1.0

    @property
    def device(self) -> str:
        """Where the diffusion runs ("cpu", "cuda")."""
        return str(self.pipe.device) if self.pipe is not None else "cpu"

    def body_choices(self) -> list[tuple[str, str]]:
        """(label, value) pairs: the mannequin always, SMPL-X / SMPL when their model files are found."""
        from renderer.body import available_bodies

        labels = {"mannequin": "Mannequin (built in)", "smplx": "SMPL-X body", "smpl": "SMPL body"}
        found = available_bodies(self.settings.smpl_dir) if self.settings.smpl_dir else ("mannequin",)
        return [(labels[kind], kind) for kind in ("mannequin", "smplx", "smpl") if kind in found]

    def body_info(self) -> str:
        """The Body setting's note: where the SMPL / SMPL-X files come from, or where to put them."""
        if len(self.body_choices()) > 1:
            return f"SMPL / SMPL-X model files from {self.settings.smpl_dir}."
        return ("The SMPL-X / SMPL bodies need their license-gated model files (smpl-x.is.tue.mpg.de, "
                "smpl.is.tue.mpg.de): put SMPLX_NEUTRAL.npz and/or SMPL_NEUTRAL.pkl in a folder and start the "
                "app with --smpl-dir FOLDER or LODGE_SMPL_MODEL_DIR=FOLDER (see the README).")

    # ------------------------------------------------------------------ disk
    def clean(self, keep: Callable[[Path], bool] = lambda p: False) -> int:
        """Delete results older than the keep time (see :func:`clean_folder`)."""
        return clean_folder(self.workdir, self.settings.keep_seconds, keep)

    def start_cleaner(self, keep: Callable[[Path], bool] = lambda p: False) -> None:
        """Clean every :attr:`AppSettings.clean_every_seconds` on a daemon thread, whether or not anyone
        generates (Gradio's own ``delete_cache`` removes the cached files on the same schedule)."""
        if self._cleaner is not None:
            return

        def loop() -> None:
            while True:
                time.sleep(self.settings.clean_every_seconds)
                try:
                    self.clean(keep)
                except Exception:  # noqa: BLE001 - never let the cleaner die
                    log.warning("cleaning the instance folder failed", exc_info=True)

        self._cleaner = threading.Thread(target=loop, name="lodge-cleaner", daemon=True)
        self._cleaner.start()

    def _touch(self, path: Path) -> None:
        """Restart the keep time of an upload in use: Gradio's cache hands the same file to everyone who
        uploads the same bytes, and its cleaner goes by the file's ctime."""
        try:
            if path.resolve().is_relative_to(self.workdir):
                os.utime(path)
        except OSError:
            pass

    def discard_upload(self, music: str | Path | None) -> None:
        """Delete a refused upload now (only files inside this instance's folder, never an example)."""
        if not music:
            return
        path = Path(music)
        try:
            if path.is_file() and path.resolve().is_relative_to(self.workdir) and \
                    not path.resolve().is_relative_to(self.workdir / JOBS_DIR):
                path.unlink()
                if not any(path.parent.iterdir()):
                    path.parent.rmdir()
        except OSError:
            log.warning("could not delete the refused upload %s", path.name)

    # ------------------------------------------------------------------ estimates
    def job(self, song_seconds: float, options: Options) -> Job:
        """The estimator's view of a request."""
        seconds = min(song_seconds, options.duration) if options.duration else song_seconds
        return Job(seconds, options.sampler, options.steps, options.video_size, options.video_fps, options.body)

    def estimate_seconds(self, song_seconds: float, options: Options) -> float:
        """Expected wall time of a request on this machine."""
        return self.estimator.total(self.job(song_seconds, options))

    def _job_root(self) -> Path:
        root = self.workdir / JOBS_DIR
        root.mkdir(parents=True, exist_ok=True)
        return root

    # ------------------------------------------------------------------ the request
    def check(self, music: str | Path | None, options: Options) -> Path:
        """Validate what can be validated before any work; returns the music path."""
        if self.pipe is None:
            raise UserError(self.load_error or "No dance model is loaded.", title="Model not loaded")
        if music is None or (isinstance(music, str) and not music.strip()):
            raise UserError("Please add some music first: upload a file, record with the microphone, "
                            "or click one of the examples.", title="No music")
        path = Path(music)
        if not path.is_file():
            raise UserError(f"The music file '{path.name}' did not arrive; please upload it again.", title="No music")
        if not options.genre:
            raise UserError("Please pick a dance genre.", title="No genre")
        known = [g.lower() for g in self.genres]
        if options.genre.lower() not in known:
            raise UserError(f"Unknown genre '{options.genre}'. This model knows: {', '.join(self.genres)}.",
                            title="Unknown genre")
        if options.sampler not in ("ddim", "ddpm"):
            raise UserError(f"Unknown quality setting '{options.sampler}'.", title="Unknown quality setting")
        try:
            checks.check_soft(options.soft)
            checks.check_seed(options.seed)
            checks.check_steps(options.steps)
            if options.duration is not None:
                checks.check_seconds(options.duration, self.settings.max_seconds)
        except checks.InputError as err:
            raise UserError(str(err), title="Setting out of range") from None
        return path

    def load_music(self, path: Path, options: Options) -> np.ndarray:
        """Decode the music (mono, 15360 Hz), checked; with a length, only that much is decoded.

        A refused file is deleted at once (it is of no further use), except one refused only for its
        length: 'First N seconds' can still use it.
        """
        try:
            return load_audio(path, max_seconds=self.settings.max_seconds, min_seconds=MIN_SECONDS,
                              duration=options.duration)
        except AudioError as err:
            if not isinstance(err, SongTooLongError):
                self.discard_upload(path)
            raise audio_user_error(err) from err

    def generate(self, music: str | Path | None, options: Options, report: Report | None = None) -> Result:
        """Run one request; raises UserError for anything the user should see."""
        report = report or (lambda fraction, desc: None)
        path = self.check(music, options)
        self._touch(path)
        t_start = time.perf_counter()
        report(0.0, "Reading the music")
        wave = self.load_music(path, options)
        song_seconds = len(wave) / SAMPLE_RATE
        job = self.job(song_seconds, options)
        stages = StageProgress(self.estimator.weights(job), report)

        t0 = time.perf_counter()
        features = music_features(wave)
        timings = {"music": time.perf_counter() - t0 + (t0 - t_start)}
        stages("music", 1.0)

        genre = self.genres[[g.lower() for g in self.genres].index(options.genre.lower())]
        _use_pipeline(self.pipe)  # (several Studios may share a process in tests)
        try:
            dance = _diffuse_on_device(features, genre, int(options.seed), float(options.soft), options.sampler,
                                       int(options.steps) if options.sampler == "ddim" else None,
                                       stages.weights, report, beat_sync=bool(options.beat_sync))
        except UserError:
            raise
        except Exception as err:  # noqa: BLE001 - GenreError, out of memory, ...
            log.exception("generation failed")
            raise UserError(f"The dance could not be generated: {err}", title="Generation failed") from err
        timings["global"] = float(dance.timings.get("global", 0.0))
        timings["local"] = float(dance.timings.get("local", 0.0))

        out = Path(tempfile.mkdtemp(prefix=f"{_safe_stem(path.name)}_", dir=self._job_root()))
        name = f"{_safe_stem(path.name)}_{genre}_seed{int(options.seed)}"
        t_render = time.perf_counter()
        result = self._render(dance, path, out, name, options, stages)
        timings["render"] = time.perf_counter() - t_render
        timings["total"] = time.perf_counter() - t_start
        dance.timings = dict(timings)
        self.estimator.update(job, timings)
        result.timings = timings
        result.summary = summary_markdown(dance, timings, describe_device(self.device), options)
        stages("render", 1.0)
        return result

    def _render(self, dance, music_path: Path, out: Path, name: str, options: Options, stages) -> Result:
        """Video, timeline, GLB and the other downloads, written into `out`."""
        import renderer

        frames_total = max(1, int(round(dance.duration * options.video_fps)))
        # The video is most of the rendering time; the timeline and exports share the rest.
        video_share = 0.9

        def on_frame(done: int, total: int | None = None) -> None:
            stages("render", video_share * done / max(total or frames_total, 1))

        video = out / f"{name}.mp4"
        try:
            renderer.render_video(dance, video, music_path=music_path, size=int(options.video_size),
                                  fps=int(options.video_fps), body=options.body, camera=options.camera,
                                  smpl_dir=self.settings.smpl_dir, progress=on_frame)
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


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def summary_markdown(dance, timings: dict[str, float], device: str, options: Options) -> str:
    """The short report shown under the video."""
    kinds = [p.kind for p in dance.primitives]
    n_hard, n_soft = kinds.count("hard"), len(kinds) - kinds.count("hard")
    tempo = f"{dance.tempo:.0f} BPM" if dance.tempo else "not detected"
    quality = (f"fast (DDIM, {options.steps} steps)" if options.sampler == "ddim" else "full (DDPM, 1000 steps)")
    stage_names = {"music": "music analysis", "global": "global diffusion", "local": "local diffusion",
                   "render": "rendering + downloads"}
    stage_text = " · ".join(f"{stage_names[s]} {timings.get(s, 0.0):.1f} s" for s in STAGES)
    rows = [
        ("Duration", f"{format_duration(dance.duration)} ({dance.num_frames} frames at {dance.fps} fps)"),
        ("Tempo", f"{tempo} ({len(dance.beats)} beats)"),
        ("Genre", dance.genre),
        ("Primitives", f"{len(kinds)} ({_plural(n_hard, 'hard cue')}, {_plural(n_soft, 'soft cue')} incl. mirrored)"),
        ("Segments", f"{_plural(len(dance.segment_starts), 'local segment')} of 8.5 s"),
        ("Settings", f"seed {options.seed} · soft-cue strength {options.soft:g} · {quality} · "
                     f"beat sync {'on' if options.beat_sync else 'off'}"),
        ("Time", f"{timings.get('total', sum(timings.values())):.1f} s in all: {stage_text}"),
        ("Device", device),
    ]
    table = "\n".join(f"| **{k}** | {v} |" for k, v in rows)
    return f"| | |\n|---|---|\n{table}\n"
