"""Devices: CUDA when present, and the ZeroGPU `spaces.GPU` wrapper when the `spaces` package exists.

On a Hugging Face ZeroGPU Space a GPU is attached only while a function decorated with
``spaces.GPU`` runs, for at most its declared ``duration``. Only the diffusion stages need the GPU,
so only they are wrapped (music analysis and rendering run on the Space's CPU), and the duration
grows with the song and the sampler's step count. Everywhere else the function is returned as is.
"""
from __future__ import annotations

import math
from typing import Callable, TypeVar

from lodge.sampling import SamplingOptions

F = TypeVar("F", bound=Callable)

GPU_MIN_SECONDS = 30
GPU_MAX_SECONDS = 300


def spaces_available() -> bool:
    """True when the Hugging Face `spaces` package can be imported (i.e. on a ZeroGPU Space)."""
    try:
        import spaces  # noqa: F401
    except Exception:  # noqa: BLE001 - not installed, or broken outside Spaces
        return False
    return True


def gpu_seconds(song_seconds: float, options: SamplingOptions) -> int:
    """GPU time to reserve for the two diffusion stages of one song sampled with ``options``.

    A GPU runs all segments of a song in one batch, so the cost is mostly per denoising step;
    longer songs add a little per step. The step count is the options' own
    (:meth:`~lodge.sampling.SamplingOptions.iterations`; pass options resolved for the checkpoint
    so that DDPM counts its chain).
    """
    n_steps = options.iterations()
    seconds = 15 + n_steps * (0.08 + 0.0015 * song_seconds)
    return int(min(GPU_MAX_SECONDS, max(GPU_MIN_SECONDS, math.ceil(seconds))))


def wrap_for_gpu(fn: F, duration: Callable[..., int]) -> F:
    """``spaces.GPU(duration=duration)(fn)`` when `spaces` is importable, else `fn` unchanged.

    `duration` receives the same arguments as `fn` and returns the seconds to reserve.
    """
    if not spaces_available():
        return fn
    import spaces

    return spaces.GPU(duration=duration)(fn)


def describe_device(device: str) -> str:
    """A short human description: "CPU, 2 threads" or "CUDA, NVIDIA H100 80GB HBM3"."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        try:
            return f"CUDA, {torch.cuda.get_device_name(torch.device(device))}"
        except Exception:  # noqa: BLE001 - ZeroGPU may not expose the name outside a GPU call
            return "CUDA"
    if device == "cpu":
        return f"CPU, {torch.get_num_threads()} threads"
    return device
