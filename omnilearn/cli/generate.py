"""``omnilearn sample``: JetNet jets from a trained generator run."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import recipes, runs
from .flags import UsageError, add_runs_dir, nonnegative_float, positive_int, require_checkpoint

SAMPLE = """Generate jets with a trained JetNet generator and write them as JetNet class files.

Examples:

    omnilearn sample --dataset jetnet30 --run omnilearn           # -> samples/jetnet30_omnilearn
    omnilearn sample --dataset jetnet30 --run omnilearn --ideal   # -> samples/jetnet30_omnilearn_ideal
    omnilearn sample --dataset jetnet30 --run scratch             # -> samples/jetnet30_scratch

The generator is <runs_dir>/<dataset>_<run>/best and the jet-level model <runs_dir>/<dataset>_jets
(what `omnilearn finetune --dataset jetnet30` writes). First the jet-level model samples pT, eta,
mass and multiplicity per class (as many jets per class as the test split holds, or --num_jets),
then the generator head samples the particles conditioned on them, masked to the multiplicity.
--ideal conditions on the validation split's jets instead (the paper's "Ideal" rows). --steps:
model evaluations (cost grows linearly) of the --solver (DPM-Solver++(2M) or DDIM); --guidance w:
classifier-free guidance v = (1 + w) v(class) - w v(no class).
"""


def add_sample(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..generation.sampler import DEFAULT_SOLVER, DEFAULT_STEPS, SOLVERS

    p.description = SAMPLE
    p.add_argument("--dataset", required=True, choices=recipes.generation_datasets())
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/{val,test}.h5")
    add_runs_dir(p)
    p.add_argument("--run", default=runs.FINE_TUNED, help="run name: the generator is <runs_dir>/<dataset>_<run>")
    p.add_argument("--run_dir", default=None, help="the generator run folder itself (instead of the rule)")
    p.add_argument("--checkpoint", default="best", help="checkpoint folder inside the run")
    p.add_argument("--jet_dir", default=None, help="jet-level model (default <runs_dir>/<dataset>_jets)")
    p.add_argument("--samples_dir", default="samples", help="parent of the default --outdir")
    p.add_argument("--outdir", default=None, help="default <samples_dir>/<dataset>_<run>[_ideal]")
    p.add_argument("--ideal", action="store_true", help="condition on the validation split's jets")
    p.add_argument("--num_jets", type=positive_int, default=None, help="jets per class (default: the test split's)")
    p.add_argument("--steps", type=positive_int, default=DEFAULT_STEPS, help="sampler steps (model evaluations)")
    p.add_argument(
        "--solver", choices=SOLVERS, default=DEFAULT_SOLVER, help="dpm2m: DPM-Solver++(2M), second order; ddim: first"
    )
    p.add_argument("--guidance", type=nonnegative_float, default=0.0, help="classifier-free guidance strength w")
    p.add_argument("--batch", type=positive_int, default=256, help="jets per generator call")
    p.add_argument("--seed", type=int, default=0, help="seeds the noise")
    p.set_defaults(handler=sample)


def sample(a: argparse.Namespace) -> int:
    from ..datasets import registry
    from ..models.checkpoint import data_settings
    from ..workflows import jetnet

    run_dir = Path(a.run_dir) if a.run_dir else runs.run_dir(a.runs_dir, a.dataset, a.run)
    generator = run_dir / a.checkpoint
    require_checkpoint(generator, "generator", f"run `omnilearn finetune --dataset {a.dataset}` first")
    trained_on = data_settings(generator).get("dataset")
    if trained_on not in (None, a.dataset):
        raise UsageError(f"{generator} was trained on {trained_on}, not {a.dataset}")
    jet_dir = a.jet_dir or runs.run_dir(a.runs_dir, a.dataset, runs.JETS)
    if a.outdir:
        outdir = Path(a.outdir)
    elif a.run_dir:  # a folder outside the rule: its samples are named after it
        outdir = Path(a.samples_dir) / f"{run_dir.name}{'_ideal' if a.ideal else ''}"
    else:
        outdir = runs.samples_dir(a.samples_dir, a.dataset, a.run, a.ideal)
    ds = registry.get(a.dataset)
    meta = jetnet.sample(
        generator,
        jet_dir,
        ds.files(a.data_dir, "test")[0],
        outdir,
        ideal=ds.files(a.data_dir, "val")[0] if a.ideal else None,
        num_jets=a.num_jets,
        steps=a.steps,
        guidance=a.guidance,
        solver=a.solver,
        seed=a.seed,
        batch_size=a.batch,
    )
    print(
        f"{meta['num_jets']} jets in {outdir} ({meta['seconds']:.1f} s, {meta['ms_per_jet']:.2f} ms per jet "
        f"with {a.steps} steps)"
    )
    return 0
