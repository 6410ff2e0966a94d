"""Lodge Studio: music in, long 3D dance out (Gradio app; `python app.py`, then open http://127.0.0.1:7860).

Options: `python app.py --help` (checkpoint, device, length limit, SMPL-X folder, host, port). The page
and the generation job live in the `lodge_app` package.
"""
from __future__ import annotations

import logging
import os
import signal

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from lodge_app import AppSettings, launch  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Parse the flags and serve the app until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # `kill` (SIGTERM) stops the server like Ctrl-C, so the instance's temporary folder is removed too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    launch(AppSettings.from_args(argv))


if __name__ == "__main__":
    main()
