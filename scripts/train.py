#!/usr/bin/env python
"""Pretrain OmniLearn (JetClass, or the embedded Pythia set) or train/fine-tune on any dataset.

Examples::

    # the paper's pretraining (on 128 GPUs: see slurm/), here on the embedded Pythia jets;
    # prefix with `horovodrun -np N --gloo` (or srun) for N data-parallel workers
    python scripts/train.py --dataset pythia --mode all --epoch 200 --warm_epoch 3
    # a classifier from the pretrained body (body learning rate x0.1)
    python scripts/train.py --dataset toptag_pythia --mode classifier --fine_tune --lr 3e-5 --wd 0.1

Reads ``<data_dir>/<dataset>/{train,val}.h5`` (the unified format) and writes checkpoints
``<outdir>/{best,last}`` and ``<outdir>/history.csv``; a rerun resumes from ``last``.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from omnilearn import cli  # noqa: E402
from omnilearn.data import registry  # noqa: E402
from omnilearn.training import distributed  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="pythia", help=f"one of {sorted(registry.DATASETS)}")
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/{train,val}.h5")
    p.add_argument("--outdir", default=None, help="default: runs/<dataset>_<mode>[_fine_tune]")
    cli.add_model_args(p)
    cli.add_train_args(p)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Under horovodrun/srun: this worker's rank and the worker count; else rank 0 of 1.
    ctx = distributed.init()
    outdir = args.outdir or os.path.join("runs", f"{args.dataset}_{args.mode}{'_fine_tune' if args.fine_tune else ''}")
    cli.train_dataset(args, outdir, ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
