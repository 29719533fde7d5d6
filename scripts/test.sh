#!/usr/bin/env bash
# The tests, as CI runs them: lint and format check (seconds), the fast tests (~2.5 min), then
# the slow end-to-end ones (~4 min). Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m ruff check .
"$PY" -m ruff format --check .
"$PY" -m pytest -q -m "not slow" "$@"
"$PY" -m pytest -q -m slow "$@"
