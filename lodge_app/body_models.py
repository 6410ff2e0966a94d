"""The SMPL / SMPL-X model folder of a hosted app: a mounted folder, or a private model repository
fetched at start-up with a token kept as a secret.

The model files are license-gated: they are never in this repository or its Space, only in a place the
app's owner controls (persistent storage, or a private Hugging Face model repository).
"""
from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from .settings import AppSettings

log = logging.getLogger(__name__)

MODEL_REPO_ENV = "LODGE_SMPL_MODEL_REPO"  # private HF model repo holding smplx/SMPLX_NEUTRAL.npz, smpl/SMPL_NEUTRAL.pkl
MODEL_FILES = ["smplx/SMPLX_NEUTRAL.*", "smpl/SMPL_NEUTRAL.pkl", "SMPLX_NEUTRAL.*", "SMPL_NEUTRAL.pkl"]
DEFAULT_CACHE = Path.home() / ".cache" / "lodge" / "body_models"


def with_body_models(settings: AppSettings, cache: Path = DEFAULT_CACHE) -> AppSettings:
    """`settings` with `smpl_dir` pointing at the model files.

    A configured folder (``--smpl-dir`` / ``LODGE_SMPL_MODEL_DIR``) wins. Otherwise, when
    ``LODGE_SMPL_MODEL_REPO`` names a private model repository, its neutral model files are downloaded
    into `cache` with the token in ``HF_TOKEN`` (a Space secret). Any failure is logged and leaves the
    mannequin as the only body.
    """
    repo = os.environ.get(MODEL_REPO_ENV, "").strip()
    if settings.smpl_dir is not None or not repo:
        return settings
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(repo, repo_type="model", allow_patterns=MODEL_FILES, local_dir=str(cache),
                                   token=os.environ.get("HF_TOKEN") or None)
    except Exception as err:  # noqa: BLE001 - no network, bad token, no such repo: keep the mannequin
        log.warning("could not fetch the SMPL / SMPL-X model files from %s: %s", repo, err)
        return settings
    return dataclasses.replace(settings, smpl_dir=Path(folder))
