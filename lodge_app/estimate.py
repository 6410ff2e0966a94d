"""Honest time estimates and progress weights for one generation.

Each stage's cost is a simple model of the work it does (seconds of music, window x step and
segment x step counts of the two diffusion stages, rendered pixels), times a rate. The diffusion
rates come from a short timing run on the loaded model at start-up (:meth:`TimeEstimator.calibrate`);
every finished request then nudges all rates toward what was really measured, so the estimates on
the page and the progress bar's stage weights track the machine the app is running on.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from lodge.checks import MAX_STEPS
from lodge.constants import FPS, GLOBAL_LEN, SEG_LEN
from lodge.sampling import DEFAULT_DDIM_STEPS, DEFAULT_SAMPLER, SamplingOptions

# Built-in rates, measured on the 2-core CPU machine this project is developed on ("small" model,
# OMP_WAIT_POLICY=PASSIVE; see Spaces.md).
# They are only used until calibration / the first request replaces them.
MUSIC_S_PER_SONG_S = 0.03  # librosa features, per second of music
MUSIC_FIXED_S = 0.3  # decoding, start-up
GLOBAL_S_PER_WINDOW_STEP = 0.06  # one denoising step (with guidance) for one 1024-frame window
LOCAL_S_PER_SEGMENT_STEP = 0.11  # one denoising step (with guidance) for one 256-frame segment
RENDER_S_PER_FRAME_512 = 0.045  # one 512 x 512 video frame (mannequin, llvmpipe) incl. encoding
RENDER_FIXED_S = 2.0  # scene set-up, timeline figure, exports
SMPL_RENDER_FACTOR = 1.5  # a 10k-vertex SMPL-X mesh per frame vs the mannequin (bench_render: 1.3-1.5x CPU)
STAGES = ("music", "global", "local", "render")
STAGE_LABELS = {
    "music": "Listening to the music (beats, tempo, timbre)",
    "global": "Global diffusion: choosing the key dance moves",
    "local": "Local diffusion: filling in every 8.5 s segment",
    "render": "Rendering the video and the downloads",
}


@dataclass(frozen=True)
class Job:
    """The size of one generation request, as the estimator sees it.

    ``steps`` counts for DDIM only: DDPM runs the whole chain (:attr:`TimeEstimator.ddpm_steps`), as the
    app samples it.
    """

    song_seconds: float
    sampler: str = DEFAULT_SAMPLER
    steps: int = DEFAULT_DDIM_STEPS
    video_size: int = 512
    video_fps: int = FPS
    body: str = "mannequin"

    @classmethod
    def from_options(cls, song_seconds: float, options: SamplingOptions, **video) -> "Job":
        """The job of sampling ``song_seconds`` of music with ``options`` (``video``: video_size, video_fps, body)."""
        return cls(song_seconds, options.sampler, options.iterations(), **video)

    def sampling(self) -> SamplingOptions:
        """The sampler and step count of this job as sampling options (DDPM: the whole chain)."""
        return SamplingOptions(sampler=self.sampler, steps=self.steps if self.sampler == "ddim" else None)

    @property
    def frames(self) -> int:
        """Dance frames at 30 fps."""
        return max(1, int(round(self.song_seconds * FPS)))

    @property
    def windows(self) -> int:
        """1024-frame global windows."""
        return max(1, math.ceil(self.frames / GLOBAL_LEN))

    @property
    def segments(self) -> int:
        """256-frame local segments."""
        return max(1, math.ceil(self.frames / SEG_LEN))

    @property
    def video_frames(self) -> int:
        """Frames in the rendered video."""
        return max(1, int(round(self.song_seconds * self.video_fps)))


@dataclass
class TimeEstimator:
    """Per-stage time model; thread-safe updates from finished requests."""

    music_rate: float = MUSIC_S_PER_SONG_S
    global_rate: float = GLOBAL_S_PER_WINDOW_STEP
    local_rate: float = LOCAL_S_PER_SEGMENT_STEP
    render_rate: float = RENDER_S_PER_FRAME_512
    ddpm_steps: int = MAX_STEPS  # the DDPM chain length; Studio sets the loaded checkpoint's
    calibrated: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # ------------------------------------------------------------------ model
    def _steps(self, job: Job) -> int:
        return job.sampling().iterations(self.ddpm_steps)

    def _render_units(self, job: Job) -> float:
        per_frame = 0.35 + 0.65 * (job.video_size / 512.0) ** 2  # fixed cost + pixel cost
        factor = SMPL_RENDER_FACTOR if job.body != "mannequin" else 1.0
        return job.video_frames * per_frame * factor

    def estimate(self, job: Job) -> dict[str, float]:
        """Expected seconds per stage ("music", "global", "local", "render")."""
        steps = self._steps(job)
        return {
            "music": MUSIC_FIXED_S + self.music_rate * job.song_seconds,
            "global": self.global_rate * job.windows * steps,
            "local": self.local_rate * job.segments * steps,
            "render": RENDER_FIXED_S + self.render_rate * self._render_units(job),
        }

    def total(self, job: Job) -> float:
        """Expected seconds for the whole request."""
        return sum(self.estimate(job).values())

    def weights(self, job: Job) -> dict[str, float]:
        """Each stage's share of the expected time (sums to 1): the progress bar's stage weights."""
        est = self.estimate(job)
        total = sum(est.values()) or 1.0
        return {k: v / total for k, v in est.items()}

    # ------------------------------------------------------------------ learning
    def update(self, job: Job, timings: dict[str, float], smoothing: float = 0.5) -> None:
        """Move the rates toward the measured `timings` of a finished request (exponential average)."""
        steps = self._steps(job)
        measured = {
            "music_rate": (timings.get("music"), max(job.song_seconds, 1e-3), MUSIC_FIXED_S),
            "global_rate": (timings.get("global"), job.windows * steps, 0.0),
            "local_rate": (timings.get("local"), job.segments * steps, 0.0),
            "render_rate": (timings.get("render"), self._render_units(job), RENDER_FIXED_S),
        }
        with self._lock:
            for name, (seconds, units, fixed) in measured.items():
                if seconds is None or units <= 0:
                    continue
                rate = max(seconds - fixed, 0.2 * seconds) / units
                setattr(self, name, (1 - smoothing) * getattr(self, name) + smoothing * rate)

    def calibrate(self, pipe, seconds: float = SEG_LEN / FPS, steps: int = 4) -> None:
        """Time the loaded model on one synthetic segment (a click track), after a warm-up run.

        The diffusion rates are the median time between the sampler's per-step progress reports,
        which shrugs off one-off stalls on a busy machine. About ``2 * (steps + 1)`` denoiser calls
        on one segment (a second or two on a CPU) plus librosa's first-call compilation, which would
        otherwise land on the first user's request.
        """
        import statistics
        import time

        from lodge.audio import synth_click_track

        wave = synth_click_track(120.0, seconds)
        genre = pipe.genres[0]
        options = SamplingOptions(sampler="ddim", steps=steps)
        pipe(wave, genre, options.replace(steps=1))  # warm-up: first calls allocate and compile
        stamps: dict[str, list[float]] = {"global": [], "local": []}

        def tick(stage: str, fraction: float) -> None:
            if stage in stamps:
                stamps[stage].append(time.perf_counter())

        dance = pipe(wave, genre, options, progress=tick)
        job = Job.from_options(seconds, options)

        def per_step(stage: str) -> float:
            t = stamps[stage]
            gaps = [b - a for a, b in zip(t, t[1:])]
            return statistics.median(gaps) if gaps else dance.timings.get(stage, 0.0) / steps

        with self._lock:
            self.music_rate = max(dance.timings.get("music", 0.0) / seconds, 1e-4)
            self.global_rate = max(per_step("global") / job.windows, 1e-5)
            self.local_rate = max(per_step("local") / job.segments, 1e-5)
            self.calibrated = True


def format_seconds(seconds: float) -> str:
    """A rough, friendly duration: "about 40 s", "about 3 min", "about 1 h 20 min"."""
    if seconds < 10:
        return "a few seconds"
    if seconds < 90:
        return f"about {int(round(seconds / 5.0) * 5)} s"
    minutes = seconds / 60.0
    if minutes < 90:
        return f"about {int(round(minutes))} min"
    h, m = divmod(int(round(minutes)), 60)
    return f"about {h} h {m:02d} min"


class StageProgress:
    """Turns (stage, fraction) reports into one overall fraction, weighting stages by expected time."""

    def __init__(self, weights: dict[str, float], report):
        """`report(fraction, description)` receives the overall progress in [0, 1]."""
        self.weights = weights
        self.report = report
        self._last = 0.0
        self._stage = ""

    def __call__(self, stage: str, fraction: float) -> None:
        done = 0.0
        for name in STAGES:
            if name == stage:
                break
            done += self.weights.get(name, 0.0)
        overall = done + self.weights.get(stage, 0.0) * min(max(float(fraction), 0.0), 1.0)
        overall = max(self._last, min(overall, 1.0))  # never moves backwards
        if stage == self._stage and overall - self._last < 0.004 and fraction < 1.0:
            return  # the page needs no more than a few hundred updates per request
        self._last, self._stage = overall, stage
        self.report(overall, STAGE_LABELS.get(stage, stage))


class ProgressReport:
    """``report(fraction, description)`` forwarded to ``target(fraction, desc=description)``.

    A plain class (not a closure) so that it pickles with its target: ZeroGPU sends the GPU function's
    arguments to a worker process, and ``gr.Progress`` is picklable.
    """

    def __init__(self, target):
        self.target = target

    def __call__(self, fraction: float, description: str) -> None:
        self.target(fraction, desc=description)
