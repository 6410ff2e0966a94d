"""One denoiser as a component in the image of Hugging Face diffusers: built from its own config,
``save_pretrained(dir)`` writes that config (``config.json``) and the weights
(``diffusion_pytorch_model.safetensors``), and ``from_pretrained(dir)`` rebuilds exactly that network.

A Lodge checkpoint (``lodge.checkpoint``) is a different layout: one ``config.json`` for both networks
plus ``local.safetensors`` and ``global.safetensors``. It uses the same weight helpers
(:meth:`ComponentMixin.state_for_saving`, :meth:`ComponentMixin.load_weights`).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TypeVar, Union

import torch
from safetensors.torch import load_file, save_file

from ..config import NetConfig

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "diffusion_pytorch_model.safetensors"

PathLike = Union[str, Path]
T = TypeVar("T", bound="ComponentMixin")


class ComponentMixin:
    """save_pretrained / from_pretrained for an ``nn.Module`` built as ``cls(net, **{field: value})``.

    Subclasses set ``self.net`` (their :class:`NetConfig`) and an attribute for every name in
    ``config_fields`` (the other constructor arguments that fix the architecture).
    """

    config_fields: tuple[str, ...] = ()
    # Buffers that stay float32 when the weights are stored as fp16.
    float32_buffers: tuple[str, ...] = ()
    # State-dict keys that older checkpoints hold but this network no longer has (dropped on loading).
    legacy_keys: tuple[str, ...] = ()

    net: NetConfig

    @property
    def config(self) -> dict:
        """The JSON-serialisable constructor arguments (``from_config`` inverts it)."""
        return {"_class_name": type(self).__name__, "net": asdict(self.net),
                **{name: getattr(self, name) for name in self.config_fields}}

    @classmethod
    def from_config(cls: type[T], config: dict) -> T:
        """A freshly initialised network of this config (unknown keys are ignored)."""
        name = config.get("_class_name", cls.__name__)
        if name != cls.__name__:
            raise ValueError(f"config is for {name}, not {cls.__name__}")
        return cls(NetConfig.from_dict(config.get("net", {})),
                   **{k: config[k] for k in cls.config_fields if k in config})

    def state_for_saving(self, half: bool = False) -> dict[str, torch.Tensor]:
        """CPU copies of the state dict; ``half`` stores floating tensors as fp16 (``float32_buffers`` excepted)."""
        state = {}
        for name, tensor in self.state_dict().items():
            t = tensor.detach().to("cpu")
            if half and t.is_floating_point() and name not in self.float32_buffers:
                t = t.half()
            state[name] = t.contiguous().clone()
        return state

    def load_weights(self: T, state: dict[str, torch.Tensor]) -> T:
        """Load a state dict strictly, as float32; ``legacy_keys`` of older files are dropped first."""
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items() if k not in self.legacy_keys}
        self.load_state_dict(state, strict=True)
        return self

    def save_pretrained(self, save_directory: PathLike, half: bool = False) -> Path:
        """Write ``config.json`` and ``diffusion_pytorch_model.safetensors`` (fp16 with ``half``) to a directory."""
        path = Path(save_directory)
        path.mkdir(parents=True, exist_ok=True)
        save_file(self.state_for_saving(half), str(path / WEIGHTS_NAME), metadata={"format": "pt"})
        (path / CONFIG_NAME).write_text(json.dumps(self.config, indent=1))
        return path

    @classmethod
    def from_pretrained(cls: type[T], directory: PathLike, device: Union[str, torch.device] = "cpu") -> T:
        """The network written by :meth:`save_pretrained` (float32, in eval mode)."""
        path = Path(directory).expanduser()
        for name in (CONFIG_NAME, WEIGHTS_NAME):
            if not (path / name).is_file():
                raise FileNotFoundError(f"{cls.__name__}.from_pretrained: {path / name} not found")
        model = cls.from_config(json.loads((path / CONFIG_NAME).read_text()))
        return model.load_weights(load_file(str(path / WEIGHTS_NAME))).to(device).eval()
