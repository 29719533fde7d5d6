#!/usr/bin/env python
"""The main job on the embedded default data: generate Pythia jets, pretrain OmniLearn,
fine-tune a top tagger from it (and one from scratch), evaluate, and plot into plots/."""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from omnilearn.workflows.quickstart import QuickstartConfig, run  # noqa: E402


def main(argv=None) -> int:
    d = QuickstartConfig()
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data_dir", default=d.data_dir)
    p.add_argument("--run_dir", default=d.run_dir)
    p.add_argument("--plot_dir", default=d.plot_dir)
    p.add_argument("--pretrain_jets", type=int, default=d.pretrain_jets_per_class, help="jets per class, 5 classes")
    p.add_argument("--finetune_jets", type=int, default=d.finetune_jets_per_class, help="jets per class, top and QCD")
    p.add_argument("--pretrain_epochs", type=int, default=d.pretrain_epochs)
    p.add_argument("--finetune_epochs", type=int, default=d.finetune_epochs)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--num_particles", type=int, default=d.num_particles)
    p.add_argument("--workers", type=int, default=d.workers, help="Pythia processes")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--no-scratch", dest="compare_scratch", action="store_false", help="skip the from-scratch baseline")
    p.add_argument("--paper-size", action="store_true", help="the paper's PET (1.3 M body); slow on a CPU")
    a = p.parse_args(argv)
    run(QuickstartConfig(
        data_dir=a.data_dir, run_dir=a.run_dir, plot_dir=a.plot_dir, pretrain_jets_per_class=a.pretrain_jets,
        finetune_jets_per_class=a.finetune_jets, workers=a.workers, seed=a.seed, pretrain_epochs=a.pretrain_epochs,
        finetune_epochs=a.finetune_epochs, batch=a.batch, num_particles=a.num_particles,
        compare_scratch=a.compare_scratch, paper_size=a.paper_size,
    ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
