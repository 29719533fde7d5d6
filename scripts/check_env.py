#!/usr/bin/env python
"""Check that the environment scripts/setup.sh built holds everything requirements.txt asks for.

A requirement that silently fails to install turns the tests that need it into skips (an extra
named ``root`` is dropped by distutils inside a venv, for one), so this compares the installed
distributions with setup.cfg itself, and with ``--horovod`` also checks that Horovod imports
with TensorFlow support. Exit 0 when all is there, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import argparse
import configparser
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
#: option names distutils ignores inside a venv: an extra of that name never installs
IGNORED_NAMES = {"root", "prefix", "home", "user", "exec-prefix"}


def problems(horovod: bool = False) -> list[str]:
    found = []
    match = re.search(r"^-e \.\[([^\]]+)\]", (ROOT / "requirements.txt").read_text(), flags=re.M)
    if not match:
        return ["requirements.txt should install the package with its extras (-e .[...])"]
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    defined = cfg["options.extras_require"]
    for extra in (e.strip() for e in match.group(1).split(",")):
        if extra not in defined or extra in IGNORED_NAMES:
            found.append(f"extra {extra!r} of requirements.txt is not a usable extra of setup.cfg")
            continue
        lines = [ln.split("#")[0].strip() for ln in defined[extra].splitlines()]
        for req in (Requirement(ln) for ln in lines if ln):
            try:
                version = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                found.append(f"{req.name} (extra {extra!r}) is not installed: rerun scripts/setup.sh")
                continue
            if not req.specifier.contains(version, prereleases=True):
                found.append(f"{req.name} {version} does not satisfy {req} (extra {extra!r})")
    if horovod:
        try:
            import horovod.tensorflow  # noqa: F401
        except Exception as err:  # an ImportError or a missing shared library
            found.append(f"horovod.tensorflow does not import ({err}): run scripts/install_horovod.sh")
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--horovod", action="store_true", help="also require Horovod with TensorFlow")
    found = problems(p.parse_args(argv).horovod)
    for line in found:
        print(f"environment: {line}", file=sys.stderr)
    if not found:
        print("environment: every requirement is installed")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
