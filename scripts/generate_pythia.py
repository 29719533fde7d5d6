#!/usr/bin/env python
"""Generate the embedded Pythia 8 + FastJet jet dataset (a JetClass stand-in), or jets in a released format.

Examples::

    python scripts/generate_pythia.py --outdir data/pythia --jets-per-class 2000 \\
        --classes qcd top wqq zqq hbb --workers 2 --seed 1
    python scripts/generate_pythia.py --format top --outdir data/top_public --jets-per-class 5000 --workers 2
    python scripts/generate_pythia.py --format qg --outdir data/qg_public --jets-per-class 5000 --workers 2

``--format unified`` (default) writes train/val/test.h5 in the unified format; ``top`` writes the
top-tagging release's pandas HDF5 files and ``qg`` the quark/gluon release's ``QG_jets*.npz``, with
that dataset's physics as defaults (:data:`omnilearn.data.public_formats.CONFIGS`), ready for
``scripts/preprocess.py --dataset top|qg``. All the work is in :mod:`omnilearn.data.pythia` and
:mod:`omnilearn.data.public_formats`; this script only parses arguments.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from omnilearn.data.public_formats import CONFIGS, generate_public
from omnilearn.data.pythia import PROCESS_NAMES, PythiaConfig, generate

#: PythiaConfig fields whose flags override the format's settings when given.
_OVERRIDES = ("classes", "pt_min", "pt_max", "eta_max", "num_particles", "val_fraction", "test_fraction",
              "pthat_min", "pthat_max")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d = PythiaConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--outdir", required=True, help="output directory")
    p.add_argument("--format", choices=["unified", *CONFIGS], default="unified",
                   help="unified train/val/test.h5, or the top-tagging (top) or quark/gluon (qg) release's files")
    p.add_argument("--jets-per-class", type=int, default=d.jets_per_class)
    # Physics flags default to None: the format's own settings (unified: PythiaConfig's defaults).
    p.add_argument("--classes", nargs="+", default=None, choices=PROCESS_NAMES,
                   help=f"classes to generate; labels are 0..C-1 in this order (unified default: {list(d.classes)})")
    p.add_argument("--workers", type=int, default=d.workers, help="processes (one Pythia each)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--pt-min", type=float, default=None, help=f"jet pT window, GeV (unified default: {d.pt_min})")
    p.add_argument("--pt-max", type=float, default=None, help=f"(unified default: {d.pt_max})")
    p.add_argument("--eta-max", type=float, default=None, help=f"(unified default: {d.eta_max})")
    p.add_argument("--num-particles", type=int, default=None,
                   help=f"constituents kept per jet (unified default: {d.num_particles})")
    p.add_argument("--val-fraction", type=float, default=None, help=f"(unified default: {d.val_fraction})")
    p.add_argument("--test-fraction", type=float, default=None, help=f"(unified default: {d.test_fraction})")
    p.add_argument("--pthat-min", type=float, default=None, help="hard-process pT floor (default 0.85 * pt-min)")
    p.add_argument("--pthat-max", type=float, default=None, help="hard-process pT ceiling (default 1.25 * pt-max)")
    p.add_argument("--no-mpi", action="store_true", help="switch off the underlying event (~4x faster, less realistic)")
    p.add_argument("--force", action="store_true", help="regenerate even if a matching dataset exists")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    base = PythiaConfig() if a.format == "unified" else CONFIGS[a.format]
    given = {name: getattr(a, name) for name in _OVERRIDES if getattr(a, name) is not None}
    if "classes" in given:
        given["classes"] = tuple(given["classes"])
    if a.no_mpi:
        given["mpi"] = False
    config = replace(base, jets_per_class=a.jets_per_class, seed=a.seed, workers=a.workers, **given)
    if a.format == "unified":
        result = generate(a.outdir, config, force=a.force, progress=not a.quiet)
        files = list(result.paths.values())
    else:
        result = generate_public(a.format, a.outdir, config, force=a.force, progress=not a.quiet)
        files = result.files
    state = "found (cached)" if result.cached else f"generated in {result.seconds:.1f} s"
    print(f"{a.outdir}: {state}")
    for name, s in result.stats.items():
        print(f"  {name:4s} {s.jets:6d} jets from {s.events:7d} events, per worker: "
              f"{s.events_per_second:5.1f} events/s {s.jets_per_second:5.1f} jets/s (wall), "
              f"{s.events_per_cpu_second:5.1f} events/s {s.jets_per_cpu_second:5.1f} jets/s (CPU)")
    for path in files:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
