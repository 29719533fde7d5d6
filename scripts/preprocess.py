#!/usr/bin/env python
"""Convert a public dataset from its released format into unified train/val/test files.

Examples::

    python scripts/preprocess.py --dataset top --input /data/toptag --outdir data/top
    python scripts/preprocess.py --dataset jetclass --input /data/JetClass/Pythia --outdir data/jetclass
    python scripts/preprocess.py --dataset qg --input ~/.energyflow/datasets --outdir data/qg
    python scripts/preprocess.py --dataset atlas_small --input /data/atlas --outdir data/atlas_small --max-jets 100000

The expected input of each dataset is described in its module, ``omnilearn/data/<name>.py``
(``atlas_small`` uses ``atlas.py``); all the work is there, this script only parses arguments.
"""

from __future__ import annotations

import argparse
import sys

from omnilearn.data import registry
from omnilearn.data.format import DataFormatError

CONVERTIBLE = sorted(name for name, d in registry.DATASETS.items() if d.converter)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", required=True, choices=CONVERTIBLE)
    p.add_argument("--input", required=True, help="the released file or directory (see the dataset's module)")
    p.add_argument("--outdir", required=True, help="directory for train.h5, val.h5, test.h5 (e.g. data/<dataset>)")
    p.add_argument("--max-jets", type=int, default=None,
                   help="read at most this many input jets (per split file for top, per training/test set "
                        "for ATLAS, per generator for h1, per split for jetclass)")
    p.add_argument("--num-particles", type=int, default=None, help="particles kept per jet (default: the dataset's)")
    p.add_argument("--seed", type=int, default=0, help="seeds class balancing, split assignment and output shuffling")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    options = {"max_jets": a.max_jets, "seed": a.seed, "progress": not a.quiet}
    if a.num_particles is not None:
        options["num_particles"] = a.num_particles
    try:
        result = registry.get(a.dataset).preprocess(a.input, a.outdir, **options)
    except DataFormatError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for split, path in result.paths.items():
        print(f"{split:5s} {result.counts[split]:9d} jets  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
