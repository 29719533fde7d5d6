#!/usr/bin/env python
"""Generate jets with a trained JetNet generator and write them as JetNet class files.

Examples::

    python scripts/sample_jetnet.py --dataset jetnet30 --run runs/jetnet30_omnilearn          # -> samples/jetnet30_omnilearn
    python scripts/sample_jetnet.py --dataset jetnet30 --run runs/jetnet30_omnilearn --ideal  # -> samples/jetnet30_omnilearn_ideal

First the jet-level model samples pT, η, mass and multiplicity per class (as many jets per class
as the test split holds, or --num_jets), then the generator head samples the particles
conditioned on them, masked to the multiplicity. --ideal conditions on the validation split's
jets instead (the paper's "Ideal" rows). --steps: model evaluations (cost grows linearly) of
the --solver (DPM-Solver++(2M) or DDIM);
--guidance w: classifier-free guidance v = (1 + w) v(class) − w v(no class).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from omnilearn.data import registry  # noqa: E402
from omnilearn.generation.sampler import DEFAULT_SOLVER, DEFAULT_STEPS, SOLVERS  # noqa: E402
from omnilearn.workflows import jetnet  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", required=True, choices=("jetnet30", "jetnet150"))
    p.add_argument("--data_dir", default="data")
    p.add_argument("--run", required=True, help="generator run directory (its best/ checkpoint is used)")
    p.add_argument("--jet_dir", default=None, help="jet-level model; default <run's parent>/<dataset>_jets")
    p.add_argument("--outdir", default=None, help="default samples/<run name>[_ideal]")
    p.add_argument("--ideal", action="store_true", help="condition on the validation split's jets")
    p.add_argument("--num_jets", type=int, default=None, help="jets per class (default: the test split's counts)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--solver", choices=SOLVERS, default=DEFAULT_SOLVER,
                   help="dpm2m: DPM-Solver++(2M), second order; ddim: first order")
    p.add_argument("--guidance", type=float, default=0.0)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    run = Path(a.run)
    ds = registry.get(a.dataset)
    outdir = Path(a.outdir or Path("samples") / f"{run.name}{'_ideal' if a.ideal else ''}")
    jet_dir = a.jet_dir or run.parent / f"{a.dataset}_jets"
    meta = jetnet.sample(run / "best", jet_dir, ds.files(a.data_dir, "test")[0], outdir,
                         ideal=ds.files(a.data_dir, "val")[0] if a.ideal else None, num_jets=a.num_jets,
                         steps=a.steps, guidance=a.guidance, solver=a.solver, seed=a.seed, batch_size=a.batch)
    print(f"{meta['num_jets']} jets in {outdir} ({meta['seconds']:.1f} s, {meta['ms_per_jet']:.2f} ms per jet "
          f"with {a.steps} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
