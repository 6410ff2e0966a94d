"""Checkpoints: a directory with ``config.json``, ``local.safetensors`` and ``global.safetensors``.

``config.json`` holds the :class:`LodgeConfig` plus ``motion_normalizer`` {min, max},
``music_normalizer`` {mean, std} (per dimension), ``training_data`` (a description), ``metrics`` and
``format_version``. The weights are the EMA weights used for sampling, optionally stored as fp16 and
always loaded back as float32 (the global files of checkpoints written before its network stopped
storing the motion normaliser also hold ``normalizer_min`` / ``normalizer_max``: ignored on loading).
Nothing here touches the network.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from . import __version__
from .config import PRESETS, LodgeConfig
from .constants import MUSIC_DIM
from .models import GlobalDenoiser, LocalDenoiser, count_parameters
from .motion import Normalizer, rest_motion

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
LOCAL_FILE = "local.safetensors"
GLOBAL_FILE = "global.safetensors"

PathLike = Union[str, Path]


class CheckpointError(FileNotFoundError):
    """A checkpoint directory or one of its files is missing or unreadable."""


@dataclass
class LoadedCheckpoint:
    """Everything a pipeline needs from a checkpoint; the networks are in eval mode."""

    cfg: LodgeConfig
    local: LocalDenoiser
    global_: GlobalDenoiser
    motion_normalizer: Normalizer
    music_mean: np.ndarray
    music_std: np.ndarray
    meta: dict = field(default_factory=dict)
    path: Path | None = None


def save_checkpoint(
    path: PathLike,
    cfg: LodgeConfig,
    local_model: LocalDenoiser,
    global_model: GlobalDenoiser,
    motion_normalizer: Normalizer,
    music_mean,
    music_std,
    training_data: dict,
    metrics: dict,
    half: bool = False,
) -> Path:
    """Write a checkpoint directory (created if needed) and return its path.

    Pass the EMA copies of the networks: those are what sampling uses. ``half`` stores the weights
    as fp16 (the normaliser buffers stay float32); loading always gives float32.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    music_mean = np.asarray(music_mean, np.float32).reshape(-1)
    music_std = np.asarray(music_std, np.float32).reshape(-1)
    if music_mean.shape != (MUSIC_DIM,) or music_std.shape != (MUSIC_DIM,):
        raise ValueError(f"music mean/std must have {MUSIC_DIM} values each")
    meta = cfg.to_dict()
    meta.update(
        format_version=FORMAT_VERSION,
        lodge_version=__version__,
        motion_normalizer=motion_normalizer.to_dict(),
        music_normalizer={"mean": music_mean.tolist(), "std": music_std.tolist()},
        training_data=dict(training_data),
        metrics=dict(metrics),
        parameters={"local": count_parameters(local_model), "global": count_parameters(global_model)},
        dtype="float16" if half else "float32",
    )
    save_file(local_model.state_for_saving(half), str(path / LOCAL_FILE), metadata={"format": "pt"})
    save_file(global_model.state_for_saving(half), str(path / GLOBAL_FILE), metadata={"format": "pt"})
    (path / CONFIG_FILE).write_text(json.dumps(meta, indent=1))
    return path


def _require(path: Path, what: str) -> None:
    if not path.exists():
        raise CheckpointError(f"checkpoint {what} not found: {path}")


def load_checkpoint(path: PathLike, device: Union[str, torch.device] = "cpu") -> LoadedCheckpoint:
    """Load a checkpoint directory written by :func:`save_checkpoint` (networks in eval mode, float32)."""
    path = Path(path).expanduser()
    _require(path, "directory")
    if not path.is_dir():
        raise CheckpointError(f"checkpoint must be a directory with {CONFIG_FILE}, got a file: {path}")
    for name in (CONFIG_FILE, LOCAL_FILE, GLOBAL_FILE):
        _require(path / name, f"file {name}")
    try:
        meta = json.loads((path / CONFIG_FILE).read_text())
        cfg = LodgeConfig.from_dict(meta)
        normalizer = Normalizer.from_dict(meta["motion_normalizer"])
        music_mean = np.asarray(meta["music_normalizer"]["mean"], np.float32)
        music_std = np.asarray(meta["music_normalizer"]["std"], np.float32)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint config {path / CONFIG_FILE} is malformed: {exc}") from None
    version = meta.get("format_version", 0)
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {version}; this lodge reads up to {FORMAT_VERSION}"
        )

    models = []
    local_space = normalizer.for_network(cfg.local)
    fresh = (LocalDenoiser.from_lodge_config(cfg, local_space.data_min, local_space.data_max),
             GlobalDenoiser.from_lodge_config(cfg))
    for model, name in zip(fresh, (LOCAL_FILE, GLOBAL_FILE)):
        try:
            model.load_weights(load_file(str(path / name)))
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise CheckpointError(f"weights in {path / name} do not match config.json: {first}") from None
        models.append(model.to(device).eval())

    keep = ("format_version", "lodge_version", "training_data", "metrics", "parameters", "dtype")
    return LoadedCheckpoint(
        cfg=cfg,
        local=models[0],
        global_=models[1],
        motion_normalizer=normalizer,
        music_mean=music_mean,
        music_std=music_std,
        meta={k: meta[k] for k in keep if k in meta},
        path=path,
    )


def random_normalizer(seed: int = 0, frames: int = 256) -> Normalizer:
    """A plausible motion normaliser: fitted on the rest pose plus random pose/translation noise."""
    rng = np.random.default_rng(seed)
    motion = rest_motion(frames).astype(np.float32)
    motion[:, 4:7] += rng.normal(scale=[0.8, 0.1, 0.8], size=(frames, 3)).astype(np.float32)
    motion[:, 7:] += rng.normal(scale=0.3, size=(frames, motion.shape[1] - 7)).astype(np.float32)
    motion[:, :4] = (rng.random((frames, 4)) < 0.5).astype(np.float32)
    return Normalizer.fit(motion)


def create_random_checkpoint(path: PathLike, genres: list[str], preset: str = "tiny", seed: int = 0) -> Path:
    """Write a randomly initialised (untrained) checkpoint of the given preset (a name in ``PRESETS``).

    It is a normal checkpoint in every respect; used by tests and as a placeholder before training.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}")
    cfg = PRESETS[preset](list(genres))
    normalizer = random_normalizer(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        local = LocalDenoiser.from_lodge_config(cfg, normalizer.data_min, normalizer.data_max)
        glob = GlobalDenoiser.from_lodge_config(cfg)
    return save_checkpoint(
        path, cfg, local, glob, normalizer,
        music_mean=np.zeros(MUSIC_DIM, np.float32),
        music_std=np.ones(MUSIC_DIM, np.float32),
        training_data={"description": "none: randomly initialised, untrained", "seed": seed, "preset": preset},
        metrics={},
    )
