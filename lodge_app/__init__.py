"""The Lodge Studio web app (Gradio): settings, time estimates, the generation job and the page.

`app.py` at the repository root is the entry point; this package keeps it thin. The module graph is
one-directional: ``lodge_app`` -> ``renderer``, ``lodge``; neither of those imports this package.
"""
from __future__ import annotations

import os

import lodge  # noqa: F401 - first, so that its OpenMP setting (lodge/__init__.py) precedes torch

from .settings import AppSettings

__all__ = ["AppSettings", "build_demo", "launch", "load_studio"]


def load_studio(settings: AppSettings):
    """The model and a temporary folder of this instance's own; Gradio's cache is put in that folder
    (GRADIO_TEMP_DIR, process-wide) so that results are stored once and cleaned together."""
    from .studio import Studio
    from .workspace import make_instance_folder

    workdir = make_instance_folder()
    os.environ["GRADIO_TEMP_DIR"] = str(workdir)
    return Studio.load(settings, workdir=workdir)


def build_demo(settings: AppSettings | None = None):
    """Load the model named by `settings` and build the Gradio page (see :mod:`lodge_app.ui`)."""
    from .ui import build_demo as _build

    return _build(load_studio(settings or AppSettings.from_env()))


def launch(settings: AppSettings | None = None, **launch_kwargs):
    """Build the page, queue it and serve it (blocks unless ``prevent_thread_lock=True``); old results
    and uploads are deleted on a timer."""
    from .ui import build_demo as _build
    from .ui import launch as _launch

    settings = settings or AppSettings.from_env()
    studio = load_studio(settings)
    studio.start_cleaner()
    return _launch(_build(studio), settings, **launch_kwargs)
