"""Result files: every metrics JSON of the package (a run's ``results.json``, its published copy
under ``plots/``, the JetNet ``<dataset>_generation.json``) is written by :func:`write_json` and
read by :func:`read_json`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path


def write_json(result: Mapping, path: str | os.PathLike) -> Path:
    """Write ``result`` atomically as pretty JSON (a crash leaves the old file or none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def read_json(path: str | os.PathLike) -> dict:
    """A result file written by :func:`write_json`."""
    return json.loads(Path(path).read_text())
