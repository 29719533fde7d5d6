#!/usr/bin/env python
"""Top tagging and quark/gluon on Pythia jets generated here in the released formats: generate →
real preprocessor → fine-tune the quick start's pretrained OmniLearn vs scratch → evaluate → plot.

Example::

    python scripts/quickstart.py                  # once: the pretrained body (runs/quickstart/pretrain/best)
    python scripts/pythia_tasks.py --tasks top qg

Writes ``data/pythia_tasks/{top,qg}_public`` (the released formats), ``data/pythia_tasks/{top,qg}``
(converted), ``runs/pythia_tasks/<task>_{omnilearn,scratch}`` (checkpoints, results.json) and
``plots/pythia_tasks/<task>_{roc,losses}.png``, ``<task>_table.md``. All the work is in
:mod:`omnilearn.workflows.pythia_tasks`.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from omnilearn.workflows.pythia_tasks import TASK_NAMES, PythiaTaskConfig, run  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d = PythiaTaskConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=list(TASK_NAMES), choices=TASK_NAMES)
    p.add_argument("--jets_per_class", type=int, default=d.jets_per_class, help="generated jets per class")
    p.add_argument("--workers", type=int, default=d.workers, help="Pythia processes")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--data_dir", default=d.data_dir)
    p.add_argument("--runs_dir", default=d.runs_dir)
    p.add_argument("--plot_dir", default=d.plot_dir)
    p.add_argument("--pretrained", default=d.pretrained, help="pretrained checkpoint; its size sets the model's")
    p.add_argument("--epoch", type=int, default=d.epochs, help="epochs of each training (no early stopping)")
    p.add_argument("--warm_epoch", type=int, default=d.warm_epoch)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--wd", type=float, default=d.wd)
    p.add_argument("--num_particles", type=int, default=d.num_particles, help="leading particles given to the model")
    p.add_argument("--bootstrap", type=int, default=d.bootstrap, help="test-set resamples for the uncertainties")
    p.add_argument("--no-scratch", dest="compare_scratch", action="store_false", help="skip the from-scratch run")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    cfg = PythiaTaskConfig(
        jets_per_class=a.jets_per_class, workers=a.workers, seed=a.seed, data_dir=a.data_dir, runs_dir=a.runs_dir,
        plot_dir=a.plot_dir, pretrained=a.pretrained, epochs=a.epoch, warm_epoch=a.warm_epoch, batch=a.batch,
        lr=a.lr, wd=a.wd, num_particles=a.num_particles, bootstrap=a.bootstrap, compare_scratch=a.compare_scratch,
    )
    results = run(tuple(a.tasks), cfg)
    print(f"\n{'task':5s} {'model':10s} {'accuracy':>9s} {'AUC':>7s} {'1/eB@eS=0.5':>12s} {'1/eB@eS=0.3':>12s}")
    for task, runs in results.items():
        for name, r in runs.items():
            print(f"{task:5s} {name:10s} {r['accuracy']:9.3f} {r['auc']:7.4f} {r['rejection']['0.5']:12.1f} "
                  f"{r['rejection']['0.3']:12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
