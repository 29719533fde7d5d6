#!/usr/bin/env python
"""Fine-tune OmniLearn on a classification task (--fine_tune), or train the same PET from scratch.

Examples::

    python scripts/finetune.py --dataset top --fine_tune        # -> runs/top_omnilearn
    python scripts/finetune.py --dataset top                    # -> runs/top_scratch
    python scripts/train_atlas.py --fine_tune --small           # ATLAS, 10 % of the training set

The defaults of --lr, --batch, --epoch, --warm_epoch, --stop_epoch, --wd and --body_lr_factor
are the dataset's recipe (omnilearn/evaluation/tasks.py; ``--dataset X --help`` shows them).
Reads ``<data_dir>/<dataset>/{train,val}.h5``; writes ``<outdir>/{best,last}``,
``<outdir>/history.csv`` and ``<outdir>/args.json``; a rerun resumes from ``last``.
Then: ``scripts/evaluate_classifiers.py --dataset X`` and ``scripts/plot_results.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from omnilearn import cli  # noqa: E402
from omnilearn.data import registry  # noqa: E402
from omnilearn.evaluation import tasks  # noqa: E402
from omnilearn.training import distributed  # noqa: E402


def _dataset(name: str | None, small: bool) -> str | None:
    """``--dataset atlas --small`` is ``atlas_small``."""
    return "atlas_small" if small and name == "atlas" else name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    # First pass: only the dataset, whose recipe sets the defaults of the real parser.
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--dataset")
    pre.add_argument("--small", action="store_true")
    known, _ = pre.parse_known_args(argv)
    name = _dataset(known.dataset, known.small)
    recipe = tasks.TASKS[name].recipe if name in tasks.TASKS else tasks.Recipe()

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", required=True, help=f"tasks: {sorted(tasks.TASKS)} (any registered dataset works)")
    p.add_argument("--small", action="store_true", help="with --dataset atlas: the 10 %% subset (atlas_small)")
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/{train,val}.h5")
    p.add_argument("--runs_dir", default="runs", help="parent of the default outdir")
    p.add_argument("--outdir", default=None, help="default: <runs_dir>/<dataset>_<omnilearn|scratch>")
    p.add_argument("--body_lr_factor", type=float, default=recipe.body_lr_factor,
                   help="body learning rate / head learning rate with --fine_tune")
    cli.add_model_args(p)
    flags = recipe.flags()
    flags.pop("body_lr_factor")
    cli.add_train_args(p, mode="classifier", **flags)
    args = p.parse_args(argv)
    if args.small and args.dataset != "atlas":
        p.error("--small applies to --dataset atlas only")
    args.dataset = _dataset(args.dataset, args.small)
    if args.dataset not in registry.DATASETS:
        p.error(f"unknown dataset {args.dataset!r}; registered: {registry.names()}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Under horovodrun/srun: this worker's rank and the worker count; else rank 0 of 1.
    ctx = distributed.init()
    run = "omnilearn" if args.fine_tune else "scratch"
    outdir = Path(args.outdir or Path(args.runs_dir) / f"{args.dataset}_{run}")
    if ctx.is_root:
        outdir.mkdir(parents=True, exist_ok=True)
        # evaluate_classifiers.py reads num_particles from here; the table footnotes the recipe
        (outdir / tasks.ARGS_FILE).write_text(json.dumps({**vars(args), "run": run}, indent=2, default=str))
    cli.train_dataset(args, outdir, ctx, cli.train_config(args).replace(body_lr_factor=args.body_lr_factor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
