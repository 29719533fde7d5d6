"""Temporary folders of atomic writes, and the clean-up of those a killed writer left behind.

Outputs are written into a temporary folder next to their final place and renamed into place
when complete (converters: ``<outdir>/.staging-<host>-<pid>-<random>/``, checkpoints:
``.<name>.tmp-<host>-<pid>/``). A ``kill -9`` leaves such a folder behind; the next run removes
it at its start with :func:`remove_stale`, but only when its writer is certainly gone:

* the name carries the writer's host and process id, so on the same host a folder whose
  process no longer exists is stale, and one whose process still runs is never touched;
* a folder written on another host (a shared file system) or named without them (older
  versions) is stale only when nothing in it has changed for ``max_age`` seconds.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path


def writer_tag() -> str:
    """``<host>-<pid>`` of this process, for the names of its temporary folders."""
    return f"{socket.gethostname()}-{os.getpid()}"


def parse_tag(tag: str) -> tuple[str | None, int | None]:
    """``(host, pid)`` from ``<host>-<pid>``, or ``(None, pid)`` from a bare pid, or ``(None, None)``."""
    host, _, pid = tag.rpartition("-")
    if not pid.isdigit():
        return None, None
    return (host or None), int(pid)


def writer_alive(host: str | None, pid: int | None) -> bool | None:
    """Whether the process that wrote a folder still runs: True, False, or None (cannot tell:
    another host, or no pid in the name)."""
    if host is None or pid is None or host != socket.gethostname():
        return None
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def last_change(path: Path) -> float:
    """The latest modification time of ``path`` and everything below it."""
    latest = path.lstat().st_mtime
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                latest = max(latest, os.lstat(os.path.join(root, name)).st_mtime)
            except FileNotFoundError:
                pass
    return latest


def remove_stale(
    directory: str | os.PathLike,
    pattern: str,
    tag_of: Callable[[str], str],
    max_age: float,
    before_removal: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Remove the folders matching ``pattern`` in ``directory`` whose writer is gone.

    Args:
        pattern: glob of the temporary folders, e.g. ``".staging-*"``.
        tag_of: the ``<host>-<pid>`` part of a folder's name.
        max_age: seconds without change after which a folder of unknown writer is stale.
        before_removal: called with each stale folder first (e.g. to finish a commit it began).

    Returns:
        the folders removed.
    """
    removed = []
    now = time.time()
    for path in sorted(Path(directory).glob(pattern)):
        if not path.is_dir():
            continue
        alive = writer_alive(*parse_tag(tag_of(path.name)))
        try:
            stale = alive is False or (alive is None and now - last_change(path) > max_age)
        except FileNotFoundError:  # removed meanwhile by its writer
            continue
        if stale:
            if before_removal is not None:
                before_removal(path)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
