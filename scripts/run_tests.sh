#!/usr/bin/env bash
# Install what the tests need (apt and pip; see scripts/install.sh) and run them: the default suite plus
# the server soak test. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install.sh test
export PYOPENGL_PLATFORM=egl GRADIO_ANALYTICS_ENABLED=False
exec "$LODGE_PYTHON" -m pytest -q -m "not slow" "$@"
