#!/usr/bin/env python
"""Write embedded Pythia jets (top, W, Z) as JetNet class files: the stand-in for JetNet here.

Example::

    python scripts/make_jetnet_pythia.py --outdir data/jetnet_pythia --jets-per-class 2000
    python scripts/preprocess.py --dataset jetnet30 --input data/jetnet_pythia --outdir data/jetnet30

Writes ``t.hdf5``, ``w.hdf5``, ``z.hdf5`` (30 particles) and ``t150.hdf5`` ... (150) in the
released JetNet layout; the Pythia jets are cached in ``<outdir>/pythia``.
"""

from __future__ import annotations

import argparse
import sys

from omnilearn.workflows.jetnet import make_pythia_jetnet


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--outdir", default="data/jetnet_pythia")
    p.add_argument("--jets-per-class", type=int, default=2000)
    p.add_argument("--seed", type=int, default=201, help="differs from the quick start's pretraining sample (1)")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    for letter, path in make_pythia_jetnet(a.outdir, jets_per_class=a.jets_per_class, seed=a.seed,
                                           workers=a.workers).items():
        print(f"{letter}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
