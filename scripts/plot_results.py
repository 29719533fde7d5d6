#!/usr/bin/env python
"""ROC curves, validation-loss curves and a paper-style Markdown table for each evaluated task.

Example::

    python scripts/plot_results.py --datasets top qg --runs_dir runs --plot_dir plots

Reads ``<runs_dir>/<dataset>_<run>/results.json`` (written by ``evaluate_classifiers.py``) and
writes ``<plot_dir>/<dataset>_roc.png``, ``<dataset>_losses.png`` and ``<dataset>_table.md``;
tasks without results are skipped.
"""

from __future__ import annotations

import argparse
import sys

from omnilearn.evaluation import tables, tasks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=list(tasks.TASKS), choices=sorted(tasks.TASKS),
                   metavar="DATASET", help="tasks to report (default: all)")
    p.add_argument("--runs_dir", default="runs")
    p.add_argument("--plot_dir", default="plots")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in args.datasets:
        written = tables.write_report(tasks.get_task(name), args.runs_dir, args.plot_dir)
        if written is None:
            print(f"{name}: no results.json under {args.runs_dir}/{name}_*, skipped")
        else:
            print(f"{name}: wrote {', '.join(map(str, written))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
