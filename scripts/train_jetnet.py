#!/usr/bin/env python
"""Train the JetNet generator (paper Sec. VI): jet-level model and OmniLearn's generator head.

Examples::

    python scripts/train_jetnet.py --dataset jetnet30 --fine_tune --pretrained runs/pretrain/best  # -> runs/jetnet30_omnilearn
    python scripts/train_jetnet.py --dataset jetnet30 --model_from runs/pretrain/best               # -> runs/jetnet30_scratch

Reads ``<data_dir>/<dataset>/{train,val}.h5`` (``scripts/preprocess.py --dataset jetnet30``).
The jet-level model (pT, η, mass, multiplicity given the class; always from scratch, as in the
paper) is trained into ``--jet_dir`` unless it is already there, so the fine-tuned and scratch
runs share it. ``--fine_tune`` loads the pretrained body and generator head (the class-label
embedding is new: JetNet's classes) with the body at 0.1x the learning rate. The architecture
is taken from ``--model_from`` (default with --fine_tune: --pretrained), else from the flags.
Training defaults are the paper's general settings (LION, cosine schedule, 3e-5).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from omnilearn import cli  # noqa: E402
from omnilearn.training import distributed  # noqa: E402
from omnilearn.workflows import jetnet  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", required=True, choices=("jetnet30", "jetnet150"))
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/{train,val}.h5")
    p.add_argument("--runs_dir", default="runs")
    p.add_argument("--outdir", default=None, help="default: <runs_dir>/<dataset>_<omnilearn|scratch>")
    p.add_argument("--jet_dir", default=None, help="jet-level model; default <runs_dir>/<dataset>_jets")
    p.add_argument("--jet_epochs", type=int, default=200, help="epochs of the jet-level model")
    p.add_argument("--model_from", default=None, help="take the architecture from this checkpoint")
    cli.add_model_args(p)
    cli.add_train_args(p, mode="generator")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Under horovodrun/srun: this worker's rank and the worker count; else rank 0 of 1.
    ctx = distributed.init()
    run = "omnilearn" if args.fine_tune else "scratch"
    outdir = args.outdir or os.path.join(args.runs_dir, f"{args.dataset}_{run}")
    jet_dir = args.jet_dir or os.path.join(args.runs_dir, f"{args.dataset}_jets")
    model_from = args.model_from or (args.pretrained if args.fine_tune else None)
    model_cfg = jetnet.model_config_from(model_from) if model_from else cli.model_config(args)
    result = jetnet.train(args.dataset, args.data_dir, outdir, model_cfg, cli.train_config(args),
                          pretrained=args.pretrained if args.fine_tune else None, jet_dir=jet_dir,
                          jet_epochs=args.jet_epochs, seed=args.seed, resume=args.resume, rank=ctx.rank,
                          num_workers=ctx.size)
    if ctx.is_root:
        print(f"jet model in {jet_dir}; generator checkpoints in {result.outdir}/best and {result.outdir}/last")
    return 0


if __name__ == "__main__":
    sys.exit(main())
