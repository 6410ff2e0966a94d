"""Training loops for the global stage, the local stage and the local fine-tuning stage.

Each run trains one network, keeps an EMA copy (the weights that are saved for sampling), writes a
resumable state file, a loss-curve PNG, and a Lodge checkpoint directory holding both networks (the
other network is carried over from the checkpoint already in `out`, or freshly initialised).
"""
from __future__ import annotations

import copy
import json
import math
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ..audio import normalize_music
from .. import checks
from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..config import PRESETS, LodgeConfig
from ..constants import CONTACT_SLICE, GLOBAL_LEN, HARD_GUIDE, PRIM_LEN, ROOT_SLICE, ROT_SLICE, SEG_LEN
from ..diffusion import GaussianDiffusion
from .cue_mismatch import mismatch_near_cues, random_shifts
from .music_jitter import jitter_music
from .losses import diffusion_losses, primitive_step_loss
from ..models import GlobalDenoiser, LocalDenoiser, MultiGenreDiscriminator, count_parameters
from ..models.discriminator import hinge_d_loss, hinge_g_loss, r1_penalty
from ..motion import Normalizer, PrimitiveNormalizer
from ..rotations import matrix_to_rotation_6d, rotation_6d_to_matrix
from .windows import Track, cap_speedups, global_example, local_example, normalizer_samples

STAGES = ("global", "local", "finetune")
STATE_FILE = "train_state_{stage}.pt"
HISTORY_FILE = "train_history_{stage}.json"


@dataclass
class TrainSettings:
    """Hyper-parameters of one training run."""

    stage: str
    data: str
    out: str
    preset: str = "small"
    steps: int = 2000
    batch_size: int = 16
    lr: float = 2e-4
    weight_decay: float = 0.01
    ema_decay: float = 0.995
    # The local stage's multi-genre discriminator (lodge.models.discriminator): the weight of its
    # adversarial loss (0: no discriminator), the step it starts at, its R1 penalty weight gamma, and the
    # noise levels it judges: the x0 predictions of samples noised to t < disc_max_t only (from higher
    # levels the prediction is a blur that says nothing about the judder the sampler's last steps leave).
    # At weight 0.05, gamma 1 and t < 400 it won outright within 50 steps and tripled the x0 error.
    disc_weight: float = 0.01
    disc_start: int = 500
    disc_r1: float = 10.0
    disc_max_t: int = 200
    grad_clip: float = 1.0
    save_every: int = 250
    log_every: int = 25
    seed: int = 0
    device: str = "cpu"
    half: bool = False
    max_minutes: float | None = None
    canonical_heading: bool = True  # for a new checkpoint; an existing one keeps its own setting
    # Share of each batch whose forward-kinematics losses are computed; 0 = none (x0 loss alone). On the
    # CPU the FK terms (joints in metres, including where the dancer travels) swamp the x0 gradient: a
    # cpu_patched local network on x0 alone reached x0 error 0.027 at t = 5 after 300 steps, with them 0.082.
    fk_fraction: float = 1.0
    # Weight of the normalised-space velocity term (lodge.train.losses "x0_vel"); 0 = off.
    x0_vel_weight: float = 0.0
    # Weight of the size of each sample's predicted motion against the data's (lodge.train.losses
    # "x0_speed"); 0 = off.
    x0_speed_weight: float = 0.0
    # The largest factor a training segment or window is played faster or slower by (1: never;
    # lodge.train.windows.local_example, global_example), so that the speed the network is told varies
    # within a genre.
    time_stretch: float = 1.0
    # Global stage: a window's dance shorter than the window starts 0 or more whole segments late
    # (lodge.train.windows.offset_window), so every primitive slot learns every genre; off, a window
    # starts at its dance's first frame and the later slots learn only the genres with long takes.
    window_offsets: bool = False
    # Global stage: weight of the step between consecutive primitives' mean poses against the data's
    # (lodge.train.losses.primitive_step_loss); 0 = off.
    prim_step_weight: float = 0.0
    # How much more the horizontal root's error counts in the x0 terms (lodge.train.losses root_weight).
    root_weight: float = 1.0
    # How each batch picks its tracks: every genre's share is its number of tracks to this power (1: every
    # track alike, as the corpus comes, salsa 36 % and swing 4 %; 0: every genre alike).
    genre_power: float = 1.0
    # Share of samples whose genre is replaced by the network's null genre (genre dropout), so sampling
    # can guide on the genre; 0 = off. A network trained without it gets a null genre when a run with
    # it resumes (the mean of its genre embeddings), and keeps it.
    genre_drop_prob: float = 0.0
    # Switch the stage's network to overlap-add un-patching (NetConfig.overlap_unpatch) if it does not
    # use it yet, keeping its weights; a new network is built with it.
    overlap_unpatch: bool = False
    # Global stage: denoise primitives with their motion about their mean pose amplified by this factor
    # (NetConfig.prim_motion_gain); a new network is built with it, a trained one switched to it. None:
    # the network's own (1 for a new one).
    prim_motion_gain: float | None = None
    # Local stage: denoise with the horizontal root spanning this many metres either side
    # (NetConfig.root_range); a new network is built with it, a trained one switched to it
    # (LocalDenoiser.set_root_range). None: the network's own (the motion normaliser's range for a new one).
    root_range: float | None = None
    # Local stage: share of the samples with cues whose noisy input, beside each cue, shows the same
    # dance some frames away (lodge.train.cue_mismatch), so the network learns to meet a cue its own
    # frames disagree with, as they do at sampling; 0 = off.
    cue_mismatch_prob: float = 0.0
    # Per example, each continuous music column shifted by an offset ~ N(0, music_jitter^2) in
    # normalised units (lodge.train.music_jitter), so the network cannot tell the songs apart by their
    # sound alone; 0 = off.
    music_jitter: float = 0.0
    # Tell the stage's network each example's speed (NetConfig.speed_condition); a new network is built
    # with it, a trained one given it (a zero embedding at first). The checkpoint records each genre's
    # typical speed in the training data (LodgeConfig.genre_speeds) for sampling.
    speed_condition: bool = False
    # Share of samples trained without their speed (so the network also dances when not told one).
    speed_drop_prob: float = 0.1
    # The speed embedding's learning rate as a multiple of the network's: its output starts at zero and
    # the x0 loss says little about the speed per step, so at the network's rate it stayed near zero
    # (weights 0.003 on average after 1800 global steps, the network's answers unchanged by the speed).
    speed_lr_multiplier: float = 10.0


def track_probabilities(genre_ids: list[int], genre_power: float = 1.0, sizes: list[int] | None = None) -> np.ndarray:
    """The chance of each track to be picked for a batch example, so that each genre's share of the
    trained frames is its number of frames to ``genre_power`` (1: every track alike; 0: every genre
    alike). ``sizes``: the frames each track's example can hold (a track shorter than the training
    window fills only part of it: its cues past the end are padding); None: every track one unit."""
    genre_ids = np.asarray(genre_ids)
    sizes = np.ones(len(genre_ids)) if sizes is None else np.asarray(sizes, np.float64)
    _, inverse = np.unique(genre_ids, return_inverse=True)
    totals = np.bincount(inverse, weights=sizes)
    weights = totals[inverse] ** (float(genre_power) - 1.0)
    return weights / weights.sum()


def genre_speeds(tracks: list[Track], genres: list[str]) -> dict[str, float]:
    """Each genre's mean root-relative joint speed (m/s) over every frame of its tracks."""
    total, count = np.zeros(len(genres)), np.zeros(len(genres))
    for track in tracks:
        total[track.genre_id] += float(np.sum(track.speeds))
        count[track.genre_id] += len(track.speeds)
    if (count == 0).any():
        raise ValueError(f"no training frames of {[g for g, c in zip(genres, count) if c == 0]}")
    return {g: round(float(t / c), 4) for g, t, c in zip(genres, total, count)}


def _load_tracks(data_dir: str | Path, split: str, genres: list[str] | None):
    from ..data.dataset import load_corpus  # the data package is optional for users of the pipeline

    items = load_corpus(data_dir, split=split)
    if not items:
        raise ValueError(f"no {split} items in {data_dir}")
    genres = genres or sorted({it.genre for it in items})
    tracks = []
    for it in items:
        if it.genre not in genres:
            continue
        weight = it.meta.get("weight") if isinstance(it.meta, dict) else None
        tracks.append(Track.from_arrays(it.motion, it.music, genres.index(it.genre), weight if isinstance(weight, np.ndarray) else None))
    return tracks, genres


def init_distributed(device: str) -> tuple[int, int]:
    """(rank, world size); joins the process group when launched by torchrun (gloo on CPU, nccl on GPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if str(device).startswith("cuda") else "gloo")
    return dist.get_rank(), dist.get_world_size()


def average_gradients(module: torch.nn.Module, world: int) -> None:
    """Average a module's gradients over the processes (for the discriminator, which is not DDP-wrapped
    because it runs several forward passes per step)."""
    if world == 1:
        return
    for param in module.parameters():
        if param.grad is not None:
            dist.all_reduce(param.grad)
            param.grad /= world


def random_cue_mask(batch: int, frames: int, rng: np.random.Generator, device=None) -> torch.Tensor:
    """(batch, frames) bool: the cue frames a cue-input local network is shown in training.

    As at sampling: hard cues on the first and last 4 frames (most samples), and up to 4 soft cues of
    8 frames (two cues per segment and their mirrored copies) away from the ends; some samples get
    no cue at all (the local-only and sequential baselines sample without cues).
    """
    from ..primitives import EDGE_MARGIN

    mask = np.zeros((batch, frames), dtype=bool)
    for i in range(batch):
        if rng.random() < 0.1:
            continue
        if rng.random() < 0.9:
            mask[i, :HARD_GUIDE] = mask[i, frames - HARD_GUIDE:] = True
        for _ in range(int(rng.integers(0, 5))):
            start = int(rng.integers(EDGE_MARGIN, max(EDGE_MARGIN + 1, frames - EDGE_MARGIN - PRIM_LEN)))
            mask[i, start:start + PRIM_LEN] = True
    return torch.as_tensor(mask, device=device)


def _update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.mul_(decay).add_(p.detach(), alpha=1 - decay)
        for e, b in zip(ema.buffers(), model.buffers()):
            e.copy_(b)


def _plot_losses(history: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        return
    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in [k for k in history[0] if k not in ("step", "seconds")]:
        ax.plot(steps, [h[key] for h in history], label=key)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class Trainer:
    """One training run (see :class:`TrainSettings`)."""

    def __init__(self, settings: TrainSettings, log: Callable[[str], None] = print):
        if settings.stage not in STAGES:
            raise ValueError(f"unknown stage {settings.stage!r}; expected one of {STAGES}")
        self.s = settings
        self.log = log
        self.out = Path(settings.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.rank, self.world = init_distributed(settings.device)
        self.device = torch.device(settings.device)
        if self.world > 1 and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.manual_seed(settings.seed)  # the same initial weights on every process
        self.rng = np.random.default_rng(settings.seed)
        existing = self._existing_checkpoint()
        genres = existing.cfg.genres if existing else None
        self.tracks, genres = _load_tracks(settings.data, "train", genres)
        cap_speedups(self.tracks)
        window = GLOBAL_LEN if settings.stage == "global" else SEG_LEN
        self.track_p = track_probabilities([t.genre_id for t in self.tracks], settings.genre_power,
                                           [min(len(t.motion), window) for t in self.tracks])
        if existing:
            self.cfg = existing.cfg
            self.normalizer = existing.motion_normalizer
            self.music_mean, self.music_std = np.asarray(existing.music_mean), np.asarray(existing.music_std)
            local, glob = existing.local, existing.global_
        else:
            if settings.preset not in PRESETS:
                raise ValueError(f"unknown preset {settings.preset!r}; expected one of {sorted(PRESETS)}")
            self.cfg = PRESETS[settings.preset](genres)
            self.cfg.canonical_heading = settings.canonical_heading
            if settings.speed_condition:
                self.cfg.genre_speeds = genre_speeds(self.tracks, genres)
                getattr(self.cfg, "global_" if settings.stage == "global" else "local").speed_condition = True
            self.normalizer = Normalizer.fit(normalizer_samples(self.tracks, self.rng, canonical=settings.canonical_heading))
            music = np.concatenate([t.music for t in self.tracks])
            self.music_mean, self.music_std = music.mean(0), music.std(0) + 1e-6
            if settings.stage == "local" and settings.root_range is not None:
                self.cfg.local.root_range = float(settings.root_range)
                self.cfg.local.__post_init__()
            space = self.normalizer.for_network(self.cfg.local)
            local = LocalDenoiser.from_lodge_config(self.cfg, space.data_min, space.data_max)
            glob = GlobalDenoiser.from_lodge_config(self.cfg)
        self.other = (glob if settings.stage != "global" else local).to(self.device).eval()
        self.model = (glob if settings.stage == "global" else local).to(self.device).train()
        self.ema = copy.deepcopy(self.model).eval()
        use_disc = settings.stage != "global" and settings.disc_weight > 0
        self.disc = MultiGenreDiscriminator(self.cfg).to(self.device) if use_disc else None
        self.opt = torch.optim.AdamW(self._param_groups(), lr=settings.lr, weight_decay=settings.weight_decay)
        self.disc_opt = torch.optim.AdamW(self.disc.parameters(), lr=settings.lr, betas=(0.5, 0.99)) if self.disc else None
        self.diffusion = GaussianDiffusion(self.cfg.diffusion_steps)
        self.step = 0
        self.history: list[dict] = []
        self.seconds = 0.0
        self._resume()
        if settings.genre_drop_prob > 0:
            self._add_null_genre()
        if settings.overlap_unpatch:
            self._add_overlap_unpatch()
        if settings.speed_condition:
            self._add_speed_condition()
        if settings.prim_motion_gain is not None and settings.stage == "global":
            self._set_prim_motion_gain(settings.prim_motion_gain)
        if settings.root_range is not None and settings.stage == "local":
            self._set_root_range(settings.root_range)
        # What the training step calls: the network itself, or its DDP wrapper under torchrun.
        self.forward_model = self.model if self.world == 1 else DistributedDataParallel(self.model)
        # Each process draws its own batches and noise (after the shared initialisation above).
        self.rng = np.random.default_rng([self.s.seed + self.step, self.rank])
        torch.manual_seed(self.s.seed + self.step + 7919 * self.rank)
        if self.rank != 0:
            self.log = lambda _message: None
        self.log(
            f"[{settings.stage}] {len(self.tracks)} train tracks, genres {self.cfg.genres}, "
            f"{count_parameters(self.model) / 1e6:.2f} M parameters, device {self.device}"
        )

    # ------------------------------------------------------------------ state

    def _existing_checkpoint(self):
        if not (self.out / "config.json").exists():
            return None
        try:
            return load_checkpoint(self.out)
        except CheckpointError:
            return None

    def _param_groups(self) -> list[dict]:
        """The optimiser's groups: the network, its null genre and its speed embedding apart (a run that
        starts genre dropout or the speed condition adds them as groups of their own, so older state
        files keep loading)."""
        null = getattr(self.model, "null_genre", None)
        speed = list(self.model.speed_in.parameters()) if self.model.speed_in is not None else []
        apart = {id(p) for p in speed} | {id(null)}
        rest = [p for p in self.model.parameters() if id(p) not in apart]
        return ([{"params": rest}] + ([{"params": [null]}] if null is not None else [])
                + ([{"params": speed}] if speed else []))

    def _add_null_genre(self) -> None:
        """Give the trained network (and its EMA copy) a null genre if it has none yet."""
        if self.model.null_genre is not None:
            return
        self.model.add_null_genre()
        self.ema.add_null_genre()
        self.opt.add_param_group({"params": [self.model.null_genre]})
        (self.cfg.global_ if self.s.stage == "global" else self.cfg.local).null_genre = True
        self.log(f"[{self.s.stage}] genre dropout from here on: the network has a null genre now")

    def _lr_multiplier(self, group: dict) -> float:
        """The speed embedding's group learns at ``speed_lr_multiplier`` times the rate, the others at 1."""
        speed = self.model.speed_in
        if speed is None or not group["params"]:
            return 1.0
        return self.s.speed_lr_multiplier if any(group["params"][0] is p for p in speed.parameters()) else 1.0

    def _add_speed_condition(self) -> None:
        """Give the trained network (and its EMA copy) the speed condition if it has none yet, and the
        checkpoint each genre's typical speed."""
        if self.cfg.genre_speeds is None:
            self.cfg.genre_speeds = genre_speeds(self.tracks, self.cfg.genres)
        if self.model.speed_in is not None:
            return
        self.model.add_speed_condition()
        self.ema.add_speed_condition()
        self.model.speed_in.to(self.device)
        self.ema.speed_in.load_state_dict(self.model.speed_in.state_dict())
        self.ema.speed_in.to(self.device)
        self.opt.add_param_group({"params": list(self.model.speed_in.parameters())})
        (self.cfg.global_ if self.s.stage == "global" else self.cfg.local).speed_condition = True
        self.log(f"[{self.s.stage}] speed condition from here on (genre speeds {self.cfg.genre_speeds})")

    def _add_overlap_unpatch(self) -> None:
        """Switch the stage's network (and its EMA copy) to overlap-add un-patching if it does not use it
        yet; the optimiser starts afresh on the widened output layers only."""
        if self.model.net.overlap_unpatch:
            return
        before = dict(self.model.named_parameters())
        self.model.add_overlap_unpatch()
        self.ema.add_overlap_unpatch()
        after = dict(self.model.named_parameters())
        swap = {id(before[name]): p for name, p in after.items() if before[name] is not p}
        for group in self.opt.param_groups:
            group["params"] = [swap.get(id(p), p) for p in group["params"]]
        for p in before.values():
            if id(p) in swap:
                self.opt.state.pop(p, None)
        (self.cfg.global_ if self.s.stage == "global" else self.cfg.local).overlap_unpatch = True
        self.log(f"[{self.s.stage}] overlap-add un-patching from here on (output layers widened, their optimiser state reset)")

    def _set_prim_motion_gain(self, gain: float) -> None:
        """Denoise primitives in the space with this motion gain from here on (the network keeps its weights)."""
        if float(gain) == self.cfg.global_.prim_motion_gain:
            return
        for net in (self.cfg.global_, self.model.net, self.ema.net):
            net.prim_motion_gain = float(gain)
            net.__post_init__()  # the same check as a config that asks for it
        self.log(f"[global] primitives denoised with their motion amplified {gain:g}x from here on")

    def _set_root_range(self, root_range: float) -> None:
        """Switch the local network (and its EMA copy) to denoise with this root range from here on
        (:meth:`LocalDenoiser.set_root_range`); the optimiser starts afresh on the layers it rescales."""
        if self.cfg.local.root_range == float(root_range):
            return
        before = self.cfg.local.root_range
        for model in (self.model, self.ema):
            model.set_root_range(root_range, self.normalizer)
        rescaled = {id(p) for layer in (self.model.motion_in, self.model.motion_out, self.model.foot.out)
                    for p in layer.parameters()}
        for group in self.opt.param_groups:
            for p in group["params"]:
                if id(p) in rescaled:
                    self.opt.state.pop(p, None)
        self.cfg.local.root_range = float(root_range)
        self.log(f"[local] horizontal root denoised within +-{root_range:g} m from here on (was "
                 f"{'the normaliser range' if before is None else f'+-{before:g} m'}; input and output layers rescaled)")

    @property
    def local_space(self) -> Normalizer:
        """The space the local network denoises motion in (:meth:`Normalizer.for_network`)."""
        return self.normalizer.for_network(self.cfg.local)

    @property
    def prim_space(self) -> PrimitiveNormalizer:
        """The space the global network denoises primitives in."""
        return PrimitiveNormalizer(self.normalizer, self.cfg.global_.prim_motion_gain)

    def _state_path(self) -> Path:
        return self.out / STATE_FILE.format(stage=self.s.stage)

    def _history_path(self) -> Path:
        return self.out / HISTORY_FILE.format(stage=self.s.stage)

    def _resume(self) -> None:
        path = self._state_path()
        if not path.exists():
            self._resume_from_checkpoint()
            return
        state = torch.load(path, map_location=self.device, weights_only=False)
        # load_weights: state files of older runs hold keys the networks have since dropped.
        self.model.load_weights(state["model"])
        self.ema.load_weights(state["ema"])
        self.opt.load_state_dict(state["opt"])
        if self.disc is not None and state.get("disc"):
            try:
                self.disc.load_state_dict(state["disc"])
                self.disc_opt.load_state_dict(state["disc_opt"])
            except (RuntimeError, ValueError, KeyError):
                # A state file from before the discriminator changed its inputs: the denoiser goes on,
                # the discriminator starts afresh (it is used in training only).
                self.log(f"[{self.s.stage}] the saved discriminator does not fit this version; starting a new one")
        self.step, self.history, self.seconds = state["step"], state["history"], state.get("seconds", 0.0)
        self.log(f"[{self.s.stage}] resumed at step {self.step}")

    def _resume_from_checkpoint(self) -> None:
        """Continue a run from its checkpoint alone (e.g. fp16 weights committed for the next machine).

        Without the full state file the optimiser moments are lost: the run goes on from the EMA
        weights (as both the trained and the averaged network) at the step the checkpoint records.
        """
        existing = self._existing_checkpoint()
        run = (existing.meta.get("training_data", {}).get("runs", {}).get(self.s.stage) if existing else None)
        if not run or not run.get("steps"):
            return
        trained = existing.global_ if self.s.stage == "global" else existing.local
        self.model.load_weights(trained.state_dict())
        self.ema.load_weights(trained.state_dict())
        self.step, self.seconds = int(run["steps"]), float(run.get("train_minutes", 0.0)) * 60
        if self._history_path().exists():
            self.history = json.loads(self._history_path().read_text())
        self.log(f"[{self.s.stage}] resumed from the checkpoint's weights at step {self.step} (no optimiser state)")

    def _agree(self, flag: bool) -> bool:
        """True on every process when it is True on any (so all processes stop at the same step)."""
        if self.world == 1:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def _should_stop(self) -> bool:
        return self._agree(self._stop_requested)

    def request_stop(self, *_args) -> None:
        """Ask the run to save and stop after the current step (also the SIGTERM / SIGINT handler)."""
        self._stop_requested = True

    def save(self) -> Path:
        """Write the resumable state, the loss curve and the sampling checkpoint (EMA weights).

        Under torchrun only the first process writes; the others wait for it.
        """
        if self.rank == 0:
            self._write()
        if self.world > 1:
            dist.barrier()
        return self.out

    def _write(self) -> Path:
        torch.save(
            {
                "model": self.model.state_dict(), "ema": self.ema.state_dict(), "opt": self.opt.state_dict(),
                "disc": self.disc.state_dict() if self.disc else None,
                "disc_opt": self.disc_opt.state_dict() if self.disc_opt else None,
                "step": self.step, "history": self.history, "seconds": self.seconds, "settings": asdict(self.s),
            },
            self._state_path(),
        )
        _plot_losses(self.history, self.out / f"loss_{self.s.stage}.png", f"Lodge {self.s.stage} training")
        self._history_path().write_text(json.dumps(self.history))
        local = self.ema if self.s.stage != "global" else self.other
        glob = self.ema if self.s.stage == "global" else self.other
        meta_path = self.out / "config.json"
        old = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        training = dict(old.get("training_data", {}))
        training.update(
            data=str(self.s.data), tracks=len(self.tracks),
            minutes=round(sum(len(t.motion) for t in self.tracks) / 30 / 60, 2),
        )
        runs = dict(training.get("runs", {}))
        runs[self.s.stage] = {
            "steps": self.step, "batch_size": self.s.batch_size, "lr": self.s.lr, "device": str(self.device),
            "train_minutes": round(self.seconds / 60, 1), "final_loss": self.history[-1]["total"] if self.history else None,
        }
        training["runs"] = runs
        return save_checkpoint(
            self.out, self.cfg, local, glob, self.normalizer, self.music_mean, self.music_std,
            training_data=training, metrics=old.get("metrics", {}), half=self.s.half,
        )

    # ------------------------------------------------------------------ batches

    def _music(self, music: np.ndarray) -> torch.Tensor:
        normalised = normalize_music(torch.as_tensor(np.stack(music), device=self.device), self.music_mean, self.music_std)
        return jitter_music(normalised, self.s.music_jitter, self.rng)

    def _picks(self) -> np.ndarray:
        if self.s.genre_power == 1.0:  # the same draws as before the option existed
            return self.rng.integers(0, len(self.tracks), self.s.batch_size)
        return self.rng.choice(len(self.tracks), self.s.batch_size, p=self.track_p)

    def _local_batch(self):
        picks = self._picks()
        ex = [local_example(self.tracks[i], self.rng, canonical=self.cfg.canonical_heading, max_stretch=self.s.time_stretch)
              for i in picks]
        motion = self.local_space.normalize(torch.as_tensor(np.stack([e[0] for e in ex]), device=self.device))
        genre = torch.as_tensor([e[2] for e in ex], device=self.device)
        weight = torch.as_tensor(np.stack([e[3] for e in ex]), device=self.device)
        return motion, self._music([e[1] for e in ex]), genre, weight, self._speeds([e[4] for e in ex])

    def _global_batch(self):
        picks = self._picks()
        ex = [global_example(self.tracks[i], self.rng, canonical=self.cfg.canonical_heading, max_stretch=self.s.time_stretch,
                             offsets=self.s.window_offsets)
              for i in picks]
        prims = self.prim_space.normalize(torch.as_tensor(np.stack([e[0] for e in ex]), device=self.device))
        genre = torch.as_tensor([e[2] for e in ex], device=self.device)
        frames = torch.as_tensor(np.stack([e[3] for e in ex]), device=self.device)
        weight = torch.as_tensor(np.stack([e[4] for e in ex]), device=self.device)
        return prims, self._music([e[1] for e in ex]), genre, frames, weight, self._speeds([e[5] for e in ex])

    def _speeds(self, speeds: list[float]) -> torch.Tensor | None:
        """(B,) the examples' speeds for a speed-conditioned network (NaN where dropped); None otherwise."""
        if self.model.speed_in is None:
            return None  # and no random draw, so runs without it draw the same numbers as before
        speed = torch.as_tensor(speeds, dtype=torch.float32, device=self.device)
        drop = torch.as_tensor(self.rng.random(len(speeds)) < self.s.speed_drop_prob, device=self.device)
        return torch.where(drop, torch.full_like(speed, float("nan")), speed)

    # ------------------------------------------------------------------ steps

    def _fk_samples(self, batch: int) -> int:
        """How many samples of a batch get the forward-kinematics losses (at least one, unless the fraction is 0)."""
        if self.s.fk_fraction <= 0:
            return 0
        return max(1, int(round(self.s.fk_fraction * batch)))

    def _loss_weights(self) -> dict[str, float]:
        return {"x0_vel": self.s.x0_vel_weight, "x0_speed": self.s.x0_speed_weight}

    def _drop_mask(self, batch: int) -> torch.Tensor:
        return torch.rand(batch, device=self.device) < self.cfg.cond_drop_prob

    def _genre_drop(self, batch: int) -> torch.Tensor | None:
        if self.s.genre_drop_prob <= 0:
            return None  # and no random draw, so runs without it draw the same numbers as before
        return torch.rand(batch, device=self.device) < self.s.genre_drop_prob

    def next_batch(self) -> tuple:
        """A random training batch of this run's stage (tensors on the run's device)."""
        return self._global_batch() if self.s.stage == "global" else self._local_batch()

    def train_step(self, batch: tuple | None = None) -> dict[str, float]:
        """One optimisation step on `batch` (default: a fresh random one); returns the named losses."""
        batch = batch if batch is not None else self.next_batch()
        if self.s.stage == "global":
            return self._global_step(batch)
        return self._local_step(batch, finetune=self.s.stage == "finetune")

    def _global_step(self, batch: tuple) -> dict[str, float]:
        from ..primitives import PrimitivePlan

        prims, music, genre, frames, weight, speed = batch
        b, p, length, dim = prims.shape
        t = self.diffusion.sample_timesteps(b, device=self.device)
        x_t = self.diffusion.q_sample(prims, t, torch.randn_like(prims))
        kinds = torch.as_tensor(PrimitivePlan.prim_kinds(), device=self.device).expand(b, p)
        pred = self.forward_model(x_t, t, music, genre, frames, kinds, self._drop_mask(b), self._genre_drop(b),
                                  **({} if speed is None else {"speed": speed}))
        # Each primitive is a short clip: compute the FK losses per primitive, weighted per primitive.
        frame_w = weight[:, :, None].expand(b, p, length).reshape(b * p, length)
        losses = diffusion_losses(pred.reshape(b * p, length, dim), prims.reshape(b * p, length, dim),
                                  self.prim_space, frame_weight=frame_w, fk_samples=self._fk_samples(b) * p,
                                  weights=self._loss_weights(), root_weight=self.s.root_weight)
        if self.s.prim_step_weight > 0:
            order = torch.as_tensor(frames, device=self.device).argsort(dim=1)  # hard cues come first in a batch
            in_time = lambda x: x.gather(1, order.view(b, p, *([1] * (x.ndim - 2))).expand_as(x))  # noqa: E731
            losses["prim_step"] = primitive_step_loss(in_time(pred), in_time(prims), in_time(weight))
            losses["total"] = losses["total"] + self.s.prim_step_weight * losses["prim_step"]
        self._optimise(losses["total"])
        return {k: float(v.detach()) for k, v in losses.items()}

    def _local_step(self, batch: tuple, finetune: bool) -> dict[str, float]:
        motion, music, genre, weight, speed = batch
        b = motion.shape[0]
        t = self.diffusion.sample_timesteps(b, device=self.device)
        cue_mask = random_cue_mask(b, motion.shape[1], self.rng, device=self.device) if self.model.cue_input else None
        noised = motion
        if cue_mask is not None and self.s.cue_mismatch_prob > 0:
            noised = mismatch_near_cues(motion, cue_mask, random_shifts(b, self.s.cue_mismatch_prob, self.rng, self.device))
        x_t = self.diffusion.q_sample(noised, t, torch.randn_like(motion))
        if finetune:
            # The network sees the clean ground truth at both ends, as hard guidance gives it at sampling.
            x_t[:, :HARD_GUIDE] = motion[:, :HARD_GUIDE]
            x_t[:, -HARD_GUIDE:] = motion[:, -HARD_GUIDE:]
        pred = self.forward_model(x_t, t, music, genre, self._drop_mask(b), cue_values=motion, cue_mask=cue_mask,
                                  genre_drop=self._genre_drop(b), **({} if speed is None else {"speed": speed}))
        losses = diffusion_losses(pred, motion, self.local_space, frame_weight=weight, fk_samples=self._fk_samples(b),
                                  weights=self._loss_weights(), root_weight=self.s.root_weight)
        total = losses["total"]
        judged = t < self.s.disc_max_t
        if not bool(judged.any()):
            judged = t == t.min()  # every process takes the discriminator step, so that their gradients meet
        if self.disc is not None and self.step >= self.s.disc_start:
            real, fake, judged_genre = self._disc_view(motion[judged]), self._disc_view(pred[judged]), genre[judged]
            r1, real_logits = r1_penalty(self.disc, real, judged_genre)
            d_loss = hinge_d_loss(real_logits, self.disc(fake.detach()), judged_genre)
            self.disc_opt.zero_grad(set_to_none=True)
            (d_loss + 0.5 * self.s.disc_r1 * r1).backward()
            average_gradients(self.disc, self.world)
            self.disc_opt.step()
            g_loss = hinge_g_loss(self.disc(fake), judged_genre)
            losses["disc"], losses["adv"], losses["r1"] = d_loss.detach(), g_loss.detach(), r1.detach()
            total = total + self.s.disc_weight * g_loss
        self._optimise(total)
        losses["total"] = total.detach()
        return {k: float(v.detach()) for k, v in losses.items()}

    def _disc_view(self, motion: torch.Tensor) -> torch.Tensor:
        """What the discriminator sees of normalised motion: the joint rotations made orthonormal and
        the foot-contact labels blanked. Real motion has exactly orthonormal rotations and 0/1
        contacts, a network's raw output neither; left in, they would let a discriminator tell real
        from fake by them alone, which teaches the network nothing about how a dance moves."""
        space = self.local_space
        data = space.denormalize(motion)
        rot = data[..., ROT_SLICE].reshape(*data.shape[:-1], -1, 6)
        valid = matrix_to_rotation_6d(rotation_6d_to_matrix(rot)).reshape(*data.shape[:-1], -1)
        data = torch.cat([torch.zeros_like(data[..., CONTACT_SLICE]), data[..., ROOT_SLICE], valid], dim=-1)
        return space.normalize(data)

    def _optimise(self, loss: torch.Tensor) -> None:
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.s.grad_clip)
        self.opt.step()
        self.step += 1
        warm = min(1.0, self.step / 200)  # EMA ramps up so early weights do not linger
        _update_ema(self.ema, self.model, min(self.s.ema_decay, warm * self.s.ema_decay + (1 - warm) * 0.5))

    def run(self) -> Path:
        """Train until `steps` (or `max_minutes`), saving every `save_every` steps; returns the checkpoint dir."""
        start = time.perf_counter()
        start_seconds = self.seconds
        self._stop_requested = False
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGTERM, signal.SIGINT)} \
            if threading.current_thread() is threading.main_thread() else {}
        try:
            return self._loop(start, start_seconds)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _loop(self, start: float, start_seconds: float) -> Path:
        acc: dict[str, list[float]] = {}
        while self.step < self.s.steps and not self._should_stop():
            lr_scale = 0.5 * (1 + math.cos(math.pi * self.step / max(1, self.s.steps)))
            for group in self.opt.param_groups:
                group["lr"] = self.s.lr * max(0.05, lr_scale) * self._lr_multiplier(group)
            losses = self.train_step()
            for k, v in losses.items():
                acc.setdefault(k, []).append(v)
            self.seconds = start_seconds + time.perf_counter() - start
            if self.step % self.s.log_every == 0:
                row = {"step": self.step, "seconds": round(self.seconds, 1)}
                row.update({k: float(np.mean(v)) for k, v in acc.items()})
                self.history.append(row)
                acc = {}
                self.log(f"[{self.s.stage}] step {self.step}/{self.s.steps} "
                         + " ".join(f"{k}={v:.4f}" for k, v in row.items() if k not in ("step", "seconds"))
                         + f" ({self.seconds:.0f} s)")
            out_of_time = self._agree(self.s.max_minutes is not None and (time.perf_counter() - start) / 60 > self.s.max_minutes)
            if self.step % self.s.save_every == 0 or out_of_time:
                self.save()
            if out_of_time:
                self.log(f"[{self.s.stage}] stopping at step {self.step}: {self.s.max_minutes} min reached")
                break
        return self.save()


def merge_checkpoints(global_dir: str | Path, local_dir: str | Path, out: str | Path, half: bool = False,
                      global_guidance_weight: float | None = None, genre_guidance_weight: float | None = None,
                      global_pose_guidance_weight: float | None = None,
                      speed_guidance_weight: float | None = None) -> Path:
    """Combine the global network of one checkpoint with the local network of another.

    Used when the two stages are trained in parallel (separate processes or machines). Both must
    share genres and normalisers (same corpus and seed), which is checked. ``global_guidance_weight``,
    ``global_pose_guidance_weight``, ``genre_guidance_weight`` and ``speed_guidance_weight``, when given,
    become the merged checkpoint's defaults (the genre's only for two networks with a null genre, the
    speed's only where a network is told a speed).
    """
    g, l = load_checkpoint(global_dir), load_checkpoint(local_dir)
    if g.cfg.genres != l.cfg.genres:
        raise ValueError(f"genres differ: {g.cfg.genres} vs {l.cfg.genres}")
    if not (np.allclose(g.motion_normalizer.data_min, l.motion_normalizer.data_min)
            and np.allclose(g.motion_normalizer.data_max, l.motion_normalizer.data_max)
            and np.allclose(g.music_mean, l.music_mean) and np.allclose(g.music_std, l.music_std)):
        raise ValueError("the two checkpoints were trained with different normalisers")
    cfg = LodgeConfig.from_dict({**l.cfg.to_dict(), "global": g.cfg.to_dict()["global"],
                                 "genre_speeds": l.cfg.genre_speeds or g.cfg.genre_speeds,
                                 # a calibration belongs to one pair of networks: calibrate the merge anew
                                 "genre_calibration": None})
    if global_guidance_weight is not None:
        cfg.global_guidance_weight = checks.check_guidance(global_guidance_weight)
    if global_pose_guidance_weight is not None:
        cfg.global_pose_guidance_weight = checks.check_guidance(global_pose_guidance_weight)
    if genre_guidance_weight is not None:
        if genre_guidance_weight and not cfg.has_null_genre:
            raise ValueError("genre guidance needs both networks trained with genre dropout (--genre-drop)")
        cfg.genre_guidance_weight = checks.check_guidance(genre_guidance_weight)
    if speed_guidance_weight is not None:
        if speed_guidance_weight and not cfg.has_speed_condition:
            raise ValueError("speed guidance needs a network trained with the speed condition (--speed-condition)")
        cfg.speed_guidance_weight = checks.check_guidance(speed_guidance_weight)
    training = dict(l.meta.get("training_data", {}))
    # Each stage's record from the run that trained it: a run resumed from a merged checkpoint also
    # carries the other stage's (stale) record.
    runs = {"global": g.meta.get("training_data", {}).get("runs", {}).get("global"),
            "local": training.get("runs", {}).get("local")}
    training["runs"] = {stage: run for stage, run in runs.items() if run}
    return save_checkpoint(out, cfg, l.local, g.global_, l.motion_normalizer, l.music_mean, l.music_std,
                           training_data=training, metrics=l.meta.get("metrics", {}), half=half)
