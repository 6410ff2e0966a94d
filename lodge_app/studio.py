"""One generation request, end to end: :class:`Studio` holds the loaded model and runs a request (check
the inputs, analyse the music, run both diffusion stages, render and summarise); the diffusion call is
the module-level function ZeroGPU wraps.

Nothing here imports Gradio: failures the user can fix raise :class:`UserError` with a message meant
for the page; :mod:`lodge_app.ui` turns those into ``gr.Error``.
"""
from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import numpy as np

from lodge.audio import AudioError, SongTooLongError, load_audio, music_features
from lodge.checks import InputError
from lodge.constants import SAMPLE_RATE
from lodge.sampling import SamplingOptions

from . import workspace
from .errors import UserError, audio_user_error
from .estimate import Job, StageProgress, TimeEstimator
from .gpu import describe_device, gpu_seconds, wrap_for_gpu
from .options import MIN_SECONDS, Request, sampling_error
from .outputs import Result, add_video_outputs, render_outputs, render_quick_outputs, render_video_file
from .settings import AppSettings
from .summary import summary_markdown

log = logging.getLogger("lodge_app")

# Report = callback(overall_fraction, description) for the page's progress bar.
Report = Callable[[float, str], None]


# The loaded pipeline, as a module global: on a ZeroGPU Space the GPU function runs in a forked worker
# that inherits it, so only small, picklable arguments cross into that process.
_PIPE = None


def _use_pipeline(pipe) -> None:
    """Make `pipe` the one :func:`_diffuse` runs."""
    global _PIPE
    _PIPE = pipe


def _diffuse(features, genre: str, options: SamplingOptions, weights: dict[str, float] | None = None,
             report: Report | None = None):
    """The two diffusion stages, the only GPU work, sampled with `options`. Module-level so that ZeroGPU
    can wrap it.

    `report` must be picklable on ZeroGPU (a :class:`ProgressReport` around ``gr.Progress`` is).
    """
    stages = StageProgress(weights, report) if weights and report is not None else None
    return _PIPE(features, genre, options, progress=stages)


def _diffuse_gpu_seconds(features, genre, options, weights=None, report=None) -> int:
    """`spaces.GPU` duration for :func:`_diffuse`: grows with the song and the step count."""
    return gpu_seconds(features.seconds, options)


_diffuse_on_device = wrap_for_gpu(_diffuse, _diffuse_gpu_seconds)


class Studio:
    """The loaded model plus everything a request needs; one instance per app."""

    def __init__(self, settings: AppSettings, pipe=None, load_error: str | None = None, workdir: Path | None = None):
        self.settings = settings
        self.pipe = pipe
        self.load_error = load_error
        self.workdir = Path(workdir) if workdir is not None else workspace.make_instance_folder()
        self._cleaner: threading.Thread | None = None
        self.estimator = TimeEstimator()
        if pipe is not None:
            self.estimator.ddpm_steps = int(pipe.cfg.diffusion_steps)

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
    def default_soft(self) -> float | None:
        """The loaded checkpoint's default soft-cue strength s (None without a model)."""
        return float(self.pipe.default_soft) if self.pipe is not None else None

    @property
    def follows_energy(self) -> bool:
        """Whether the loaded model's networks are told how fast to dance (so the energy setting counts)."""
        cfg = self.pipe.cfg if self.pipe is not None else None
        return bool(cfg and (cfg.local.speed_condition or cfg.global_.speed_condition))

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
        """Delete results older than the keep time (see :func:`~lodge_app.workspace.clean_folder`)."""
        return workspace.clean_folder(self.workdir, self.settings.keep_seconds, keep)

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
        """Restart the keep time of an upload in use (see :func:`~lodge_app.workspace.touch_upload`)."""
        workspace.touch_upload(self.workdir, path)

    def discard_upload(self, music: str | Path | None) -> None:
        """Delete a refused upload now (only files inside this instance's folder, never an example)."""
        workspace.discard_upload(self.workdir, music)

    # ------------------------------------------------------------------ estimates
    def job(self, song_seconds: float, request: Request) -> Job:
        """The estimator's view of a request."""
        duration = request.sampling.duration
        seconds = min(song_seconds, duration) if duration else song_seconds
        return Job.from_options(seconds, request.sampling, video_size=request.video_size,
                                video_fps=request.video_fps, body=request.body)

    def estimate_seconds(self, song_seconds: float, request: Request) -> float:
        """Expected wall time of a request on this machine."""
        return self.estimator.total(self.job(song_seconds, request))

    # ------------------------------------------------------------------ the request
    def check(self, music: str | Path | None, request: Request) -> Path:
        """Validate what can be validated before any work; returns the music path.

        The sampling options were checked when they were made; only this app's length limit is applied
        here (to a request made with another one)."""
        if self.pipe is None:
            raise UserError(self.load_error or "No dance model is loaded.", title="Model not loaded")
        if music is None or (isinstance(music, str) and not music.strip()):
            raise UserError("Please add some music first: upload a file, record with the microphone, "
                            "or click one of the examples.", title="No music")
        path = Path(music)
        if not path.is_file():
            raise UserError(f"The music file '{path.name}' did not arrive; please upload it again.", title="No music")
        if not request.genre:
            raise UserError("Please pick a dance genre.", title="No genre")
        known = [g.lower() for g in self.genres]
        if request.genre.lower() not in known:
            raise UserError(f"Unknown genre '{request.genre}'. This model knows: {', '.join(self.genres)}.",
                            title="Unknown genre")
        self.sampling(request)
        return path

    def sampling(self, request: Request) -> SamplingOptions:
        """The request's sampling options under this app's song length limit (checked again by the library
        when the request was made with another limit)."""
        try:
            return request.sampling.replace(max_seconds=self.settings.max_seconds)
        except InputError as err:
            raise sampling_error(err) from None

    def load_music(self, path: Path, request: Request) -> np.ndarray:
        """Decode the music (mono, 15360 Hz), checked; with a length, only that much is decoded.

        A refused file is deleted at once (it is of no further use), except one refused only for its
        length: 'First N seconds' can still use it.
        """
        try:
            return load_audio(path, max_seconds=self.settings.max_seconds, min_seconds=MIN_SECONDS,
                              duration=request.sampling.duration)
        except AudioError as err:
            if not isinstance(err, SongTooLongError):
                self.discard_upload(path)
            raise audio_user_error(err) from err

    def generate(self, music: str | Path | None, request: Request, report: Report | None = None) -> Result:
        """Run one request; raises UserError for anything the user should see."""
        for result in self.generate_steps(music, request, report):
            pass
        return result

    def generate_steps(self, music: str | Path | None, request: Request,
                       report: Report | None = None) -> Iterator[Result]:
        """Run one request, yielding its :class:`Result` twice: first with the timeline, 3D view (GLB) and
        dance.npz as soon as the motion exists (no video yet), then with the video and every download.
        Raises UserError for anything the user should see."""
        report = report or (lambda fraction, desc: None)
        path = self.check(music, request)
        self._touch(path)
        t_start = time.perf_counter()
        report(0.0, "Reading the music")
        wave = self.load_music(path, request)
        song_seconds = len(wave) / SAMPLE_RATE
        job = self.job(song_seconds, request)
        stages = StageProgress(self.estimator.weights(job), report)

        t0 = time.perf_counter()
        features = music_features(wave)
        timings = {"music": time.perf_counter() - t0 + (t0 - t_start)}
        stages("music", 1.0)

        genre = self.genres[[g.lower() for g in self.genres].index(request.genre.lower())]
        # The checkpoint's defaults made explicit (its soft-cue strength, guidance, DDPM chain length): the
        # same dance, and the GPU reservation and the summary see the real step count and strength.
        sampling = self.pipe.resolve_options(self.sampling(request))
        _use_pipeline(self.pipe)  # (several Studios may share a process in tests)
        try:
            dance = _diffuse_on_device(features, genre, sampling, stages.weights, report)
        except UserError:
            raise
        except Exception as err:  # noqa: BLE001 - GenreError, out of memory, ...
            log.exception("generation failed")
            raise UserError(f"The dance could not be generated: {err}", title="Generation failed") from err
        timings["global"] = float(dance.timings.get("global", 0.0))
        timings["local"] = float(dance.timings.get("local", 0.0))

        stem = workspace.safe_stem(path.name)
        out = Path(tempfile.mkdtemp(prefix=f"{stem}_", dir=workspace.job_root(self.workdir)))
        name = f"{stem}_{genre}_seed{sampling.seed}"
        t_render = time.perf_counter()
        result = render_quick_outputs(dance, out, name, path)
        timings["render"] = time.perf_counter() - t_render
        timings["total"] = time.perf_counter() - t_start
        result.timings = dict(timings)
        result.summary = summary_markdown(dance, timings, describe_device(self.device), sampling)
        yield result

        video = render_video_file(dance, path, out, name, request, stages, self.settings.smpl_dir, share=0.95)
        result = add_video_outputs(result, dance, video, out, name)
        timings["render"] = time.perf_counter() - t_render
        timings["total"] = time.perf_counter() - t_start
        dance.timings = dict(timings)
        self.estimator.update(job, timings)
        result.timings = timings
        result.summary = summary_markdown(dance, timings, describe_device(self.device), sampling)
        stages("render", 1.0)
        yield result

    def _render(self, dance, music_path: Path, out: Path, name: str, request: Request, stages) -> Result:
        """Video, timeline, GLB and the other downloads, written into `out` (see
        :func:`~lodge_app.outputs.render_outputs`)."""
        return render_outputs(dance, music_path, out, name, request, stages, smpl_dir=self.settings.smpl_dir)
