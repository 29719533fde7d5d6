#!/usr/bin/env bash
# Create .venv (Python 3.11: pythia8mc 8.317.2 ships a binary wheel for it) and install
# OmniLearn with everything the scripts and tests need. Safe to rerun.
#   --horovod   also build Horovod for multi-process training (~8 min; scripts/install_horovod.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
if [ "${1:-}" = "--horovod" ]; then
    bash scripts/install_horovod.sh .venv/bin/python
fi
