#!/usr/bin/env python
"""JetNet metrics of generated samples against the test split, with the paper's Tables VI/VII.

Example::

    python scripts/evaluate_jetnet.py --dataset jetnet30 \
        --samples "OmniLearn=samples/jetnet30_omnilearn" "PET generator=samples/jetnet30_scratch"

Writes ``<outdir>/<dataset>_generation.json`` and ``.md`` (the paper's PET generator and
OmniLearn rows beside the measured ones) and ``<plots>/<dataset>_generation.png`` (generated vs
true η_rel, φ_rel, pT_rel, jet mass and multiplicity per class, with ratio panels).
W1^M, W1^P, W1^EFP: mean ± std over 5 bootstrap draws; coverage/MMD: 10 draws of 100 jets
(needs POT); FPND: only for JetNet30 g/q/t with jetnet's ParticleNet (torch), else "–".
``--runs LABEL=RUN_DIR ...`` also draws the runs' training and validation losses
(``<plots>/<dataset>_losses.png``, the paper's Fig. 6).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from omnilearn.data import registry  # noqa: E402
from omnilearn.evaluation import generation as gm  # noqa: E402
from omnilearn.generation.plots import plot_distributions  # noqa: E402
from omnilearn.plotting import plot_losses, read_history  # noqa: E402
from omnilearn.workflows import jetnet  # noqa: E402


def labelled(items: list[str]) -> dict[str, str]:
    """LABEL=DIR items (or DIR: its name is the label) → {label: dir}."""
    out = {}
    for item in items:
        label, _, directory = item.rpartition("=")
        out[label or Path(directory).name] = directory
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", required=True, choices=("jetnet30", "jetnet150"))
    p.add_argument("--data_dir", default="data")
    p.add_argument("--samples", nargs="+", required=True, help="LABEL=DIR (or DIR: its name is the label)")
    p.add_argument("--outdir", default="results")
    p.add_argument("--plots", default="plots")
    p.add_argument("--no_fpnd", action="store_true")
    p.add_argument("--no_paper", action="store_true", help="leave the paper's rows out of the table")
    p.add_argument("--cov_batches", type=int, default=10)
    p.add_argument("--runs", nargs="*", default=[], help="LABEL=RUN_DIR: plot these runs' history.csv losses")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    samples = labelled(a.samples)
    test = registry.get(a.dataset).files(a.data_dir, "test")[0]
    results = jetnet.evaluate(test, samples, seed=a.seed, with_fpnd=not a.no_fpnd, cov_batches=a.cov_batches)
    num_particles = 150 if a.dataset == "jetnet150" else 30
    out = Path(a.outdir)
    gm.write_json(results, out / f"{a.dataset}_generation.json")
    table = gm.markdown_table(results, num_particles, with_paper=not a.no_paper)
    (out / f"{a.dataset}_generation.md").write_text(table)
    truth = jetnet.truth_by_class(test)
    generated = {label: jetnet.read_samples(d, list(truth), num_particles) for label, d in samples.items()}
    plot = plot_distributions(truth, generated, Path(a.plots) / f"{a.dataset}_generation.png",
                              title=f"{a.dataset}: generated vs test jets")
    if a.runs:
        histories = {label: read_history(Path(d) / "history.csv") for label, d in labelled(a.runs).items()}
        print(f"wrote {plot_losses({f'{a.dataset}: generator loss': histories}, Path(a.plots) / f'{a.dataset}_losses.png')}")
    print(table)
    print(f"wrote {out / f'{a.dataset}_generation.json'}, {out / f'{a.dataset}_generation.md'} and {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
