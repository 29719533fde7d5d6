#!/usr/bin/env python
"""Generate the embedded Pythia 8 + FastJet jet dataset (a JetClass stand-in).

Example::

    python scripts/generate_pythia.py --outdir data/pythia --jets-per-class 2000 \\
        --classes qcd top wqq zqq hbb --workers 2 --seed 1

All the work is in :mod:`omnilearn.data.pythia`; this script only parses arguments.
"""

from __future__ import annotations

import argparse
import sys

from omnilearn.data.pythia import CLASS_NAMES, PythiaConfig, generate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d = PythiaConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--outdir", required=True, help="directory for train.h5, val.h5, test.h5")
    p.add_argument("--jets-per-class", type=int, default=d.jets_per_class)
    p.add_argument("--classes", nargs="+", default=list(d.classes), choices=CLASS_NAMES,
                   help="classes to generate; labels are 0..C-1 in this order")
    p.add_argument("--workers", type=int, default=d.workers, help="processes (one Pythia each)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--pt-min", type=float, default=d.pt_min, help="jet pT window, GeV")
    p.add_argument("--pt-max", type=float, default=d.pt_max)
    p.add_argument("--eta-max", type=float, default=d.eta_max)
    p.add_argument("--num-particles", type=int, default=d.num_particles, help="constituents kept per jet")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction)
    p.add_argument("--test-fraction", type=float, default=d.test_fraction)
    p.add_argument("--pthat-min", type=float, default=None, help="hard-process pT floor (default 0.85 * pt-min)")
    p.add_argument("--pthat-max", type=float, default=None, help="hard-process pT ceiling (default 1.25 * pt-max)")
    p.add_argument("--no-mpi", action="store_true", help="switch off the underlying event (~4x faster, less realistic)")
    p.add_argument("--force", action="store_true", help="regenerate even if a matching dataset exists")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    config = PythiaConfig(
        classes=tuple(a.classes), jets_per_class=a.jets_per_class, pt_min=a.pt_min, pt_max=a.pt_max,
        eta_max=a.eta_max, num_particles=a.num_particles, val_fraction=a.val_fraction,
        test_fraction=a.test_fraction, seed=a.seed, workers=a.workers, pthat_min=a.pthat_min,
        pthat_max=a.pthat_max, mpi=not a.no_mpi,
    )
    result = generate(a.outdir, config, force=a.force, progress=not a.quiet)
    state = "found (cached)" if result.cached else f"generated in {result.seconds:.1f} s"
    print(f"{a.outdir}: {state}")
    for name, s in result.stats.items():
        print(f"  {name:4s} {s.jets:6d} jets from {s.events:7d} events, per worker: "
              f"{s.events_per_second:5.1f} events/s {s.jets_per_second:5.1f} jets/s (wall), "
              f"{s.events_per_cpu_second:5.1f} events/s {s.jets_per_cpu_second:5.1f} jets/s (CPU)")
    for split, path in result.paths.items():
        print(f"  {split}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
