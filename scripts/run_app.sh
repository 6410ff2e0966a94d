#!/usr/bin/env bash
# Install what the app needs (see scripts/install.sh) and serve it with the shipped weights on
# http://127.0.0.1:7860. Arguments go to app.py (see `python app.py --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install.sh app
export PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-egl} GRADIO_ANALYTICS_ENABLED=False
exec "$LODGE_PYTHON" app.py "$@"
