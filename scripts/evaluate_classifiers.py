#!/usr/bin/env python
"""Score the trained classifiers of a task on its test split: accuracy, AUC, 1/εB at the paper's εS.

Example::

    python scripts/evaluate_classifiers.py --dataset top --runs omnilearn scratch --bootstrap 100

Evaluates ``<runs_dir>/<dataset>_<run>/best`` for each run (skipping runs not trained yet) and
writes ``<runs_dir>/<dataset>_<run>/results.json``: the metrics, their bootstrap standard
deviations, ROC points and the path of the run's ``history.csv``.  Then: ``plot_results.py``.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from omnilearn.evaluation import tasks  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", nargs="+", required=True, choices=sorted(tasks.TASKS), metavar="DATASET",
                   help=f"one or more of {sorted(tasks.TASKS)}")
    p.add_argument("--runs", nargs="+", default=list(tasks.RUNS), help="run names: <runs_dir>/<dataset>_<run>")
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/test.h5")
    p.add_argument("--runs_dir", default="runs")
    p.add_argument("--checkpoint", default="best", help="checkpoint folder inside each run")
    p.add_argument("--bootstrap", type=int, default=100, help="test-set resamples for the uncertainties (0: none)")
    p.add_argument("--batch", type=int, default=1000, help="evaluation batch size")
    p.add_argument("--num_particles", type=int, default=None, help="default: as trained (the run's args.json)")
    p.add_argument("--weighted", action="store_true", help="weight every metric by the files' per-jet weights")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    written = {}
    for name in args.dataset:
        written.update(tasks.evaluate_task(
            tasks.get_task(name), args.data_dir, args.runs_dir, args.runs, checkpoint_name=args.checkpoint,
            bootstrap=args.bootstrap, batch_size=args.batch, num_particles=args.num_particles,
            weighted=args.weighted))
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
