"""``omnilearn generate-omnifold``, ``omnilearn omnifold`` and ``omnilearn omnifold-evaluate``
(unfolding, paper Sec. VII)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import recipes, runs
from .flags import (
    UsageError,
    add_model_args,
    add_runs_dir,
    add_train_args,
    model_config,
    positive_float,
    positive_int,
    pretrained,
    require_checkpoint,
    train_config,
)

DATASETS = ("omnifold_pythia", "omnifold")

GENERATE = """Generate the offline OmniFold default: paired particle-/detector-level Pythia 8 Z(->nu nu)+jet
events, "data" (final-state shower alphaS 0.150) and "MC" (Monash, 0.1365), detector level from a
simple smearing (see omnilearn.pythia.zjets), the six observables of Tables VIII-IX.

Example:

    omnilearn generate-omnifold --events 6000 --workers 2

Writes <data_dir>/omnifold_pythia/{mc,data}_{train,val,test}.h5 (80/10/10 %) and a settings
sidecar; a rerun with the same settings reuses the files.
"""

OMNIFOLD = """OmniFold unfolding with OmniLearn classifiers: fine-tuned from the pretrained model (--fine_tune) or
the same PET from scratch; 5 iterations of step 1 (detector level, MC vs data) and step 2 (particle
level), each classifier kept from one iteration to the next.

Examples:

    omnilearn generate-omnifold                                  # once: the offline default data
    omnilearn omnifold --fine_tune --num_iter 5                  # -> runs/omnifold_pythia_omnilearn
    omnilearn omnifold --num_iter 5                              # -> runs/omnifold_pythia_scratch
    omnilearn omnifold --dataset omnifold --fine_tune            # the Zenodo samples (omnilearn preprocess)
    horovodrun -np 4 --gloo omnilearn omnifold --fine_tune       # 4 workers, each on a shard of the events

Defaults: the OmniFold recipe (omnilearn.recipes.OMNIFOLD: LION, wd 0.1, body LR x0.2, batch 512,
20 epochs, patience 3, cosine with warm-up in iteration 0, then --later_lr constant). Reads
<data_dir>/<dataset>/{mc,data}_train.h5; writes <outdir>/iter<i>_step<s>/{best,last,history.csv},
weights.npz (every pull/push so far), state.json and run.json. A rerun resumes at the step it was in.
"""

EVALUATE = """Evaluate OmniFold runs on the test split: the six observables of the MC, the MC reweighted (iteration
0, step 1, detector level: Table VIII, Fig. 7) and unfolded (last step 2, particle level: Table IX,
Fig. 9) against the "data" truth; triangular discriminator x10^3 with a ± from toys.

Example:

    omnilearn omnifold-evaluate --runs omnilearn scratch

Reads <runs_dir>/<dataset>_<run> for each --runs; writes into --plot_dir <dataset>.json,
<dataset>_reweighted.png, <dataset>_unfolded.png, <dataset>_losses.png (Fig. 8) and
<dataset>_table.md (ours beside the paper's Tables VIII-IX).
"""


def add_generate_omnifold(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..pythia.zjets import ZJetConfig

    d = ZJetConfig()
    p.description = GENERATE
    p.add_argument("--data_dir", default="data", help="writes <data_dir>/omnifold_pythia")
    p.add_argument("--outdir", default=None, help="default: <data_dir>/omnifold_pythia")
    p.add_argument("--events", type=positive_int, default=d.events, help="events per sample (both levels)")
    p.add_argument("--num_particles", type=positive_int, default=d.num_particles, help="particles kept per jet")
    p.add_argument("--workers", type=positive_int, default=d.workers, help="generator processes")
    p.add_argument("--seed", type=positive_int, default=d.seed, help="Pythia seed base")
    p.add_argument("--no_mpi", dest="mpi", action="store_false", help="no multiparton interactions (faster)")
    p.add_argument("--force", action="store_true", help="regenerate even if the files match")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=generate_omnifold)


def generate_omnifold(a: argparse.Namespace) -> int:
    from ..pythia import zjets

    cfg = zjets.ZJetConfig(events=a.events, num_particles=a.num_particles, workers=a.workers, seed=a.seed, mpi=a.mpi)
    outdir = a.outdir or Path(a.data_dir) / "omnifold_pythia"
    result = zjets.generate(outdir, cfg, force=a.force, progress=not a.quiet)
    state = "reused" if result.cached else f"generated in {result.seconds:.0f} s"
    print(f"{outdir}: {cfg.events} events per sample, {state}")
    return 0


def add_omnifold(p: argparse.ArgumentParser, argv: list[str]) -> None:
    recipe = recipes.OMNIFOLD.flags()
    body_lr_factor = recipe.pop("body_lr_factor")
    p.description = OMNIFOLD
    p.add_argument("--dataset", default=DATASETS[0], choices=DATASETS, help="paired dataset")
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/{mc,data}_train.h5")
    add_runs_dir(p)
    p.add_argument("--outdir", default=None, help="default: <runs_dir>/<dataset>_<omnilearn|scratch>")
    p.add_argument("--num_iter", type=positive_int, default=5, help="OmniFold iterations")
    p.add_argument("--later_lr", type=positive_float, default=1e-6, help="constant learning rate after iteration 0")
    p.add_argument("--clip", type=positive_float, default=10.0, help="cap on each likelihood ratio f/(1-f)")
    p.add_argument("--max_events", type=positive_int, default=None, help="use only the first N events per sample")
    p.add_argument(
        "--body_lr_factor",
        type=positive_float,
        default=body_lr_factor,
        help="body learning rate / head learning rate with --fine_tune",
    )
    add_model_args(p)
    add_train_args(p, **recipe)
    p.set_defaults(handler=omnifold)


def omnifold(a: argparse.Namespace) -> int:
    if a.mode != "classifier":
        raise UsageError("OmniFold trains classifiers: --mode classifier")
    if a.fine_tune:
        require_checkpoint(
            pretrained(a), "pretrained", "run `omnilearn train` first (or give --pretrained, or drop --fine_tune)"
        )
    from ..training import distributed
    from ..workflows import omnifold_run
    from ..workflows.omnifold import Collective, HorovodCollective

    ctx = distributed.init()
    collective = HorovodCollective() if ctx.horovod and ctx.size > 1 else Collective()
    outdir = a.outdir or runs.run_dir(a.runs_dir, a.dataset, runs.task_run(a.fine_tune))
    settings = omnifold_run.RunSettings(
        data_dir=str(Path(a.data_dir) / a.dataset),
        outdir=str(outdir),
        num_iter=a.num_iter,
        num_particles=a.num_particles,
        pretrained=str(pretrained(a)) if a.fine_tune else None,
        later_lr=a.later_lr,
        clip=a.clip,
        seed=a.seed,
        max_events=a.max_events,
        resume=a.resume,
    )
    omnifold_run.run(settings, model_config(a), train_config(a), collective)
    if ctx.is_root:
        print(f"OmniFold weights in {outdir}/weights.npz; classifiers in {outdir}/iter<i>_step<s>")
    return 0


def add_omnifold_evaluate(p: argparse.ArgumentParser, argv: list[str]) -> None:
    p.description = EVALUATE
    p.add_argument("--dataset", default=DATASETS[0], choices=DATASETS, help="paired dataset")
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/{mc,data}_test.h5")
    add_runs_dir(p)
    p.add_argument("--runs", nargs="+", default=list(runs.TASK_RUNS), help="runs to compare: omnilearn, scratch")
    p.add_argument("--plot_dir", default="plots", help="where results, figures and the table go")
    p.add_argument("--split", default="test", choices=("train", "val", "test"), help="events evaluated")
    p.add_argument("--toys", type=positive_int, default=100, help="histogram variations for the ±")
    p.add_argument("--max_events", type=positive_int, default=None, help="only the first N events per sample")
    p.add_argument("--seed", type=int, default=0, help="seeds the toys")
    p.set_defaults(handler=omnifold_evaluate)


def omnifold_evaluate(a: argparse.Namespace) -> int:
    found = {r: runs.run_dir(a.runs_dir, a.dataset, r) for r in a.runs}
    missing = [str(d) for d in found.values() if not (d / "run.json").exists()]
    if missing:
        raise UsageError(f"no finished OmniFold run at {missing}: run `omnilearn omnifold` first")
    from ..workflows import omnifold_run

    results = omnifold_run.evaluate(
        found,
        Path(a.data_dir) / a.dataset,
        a.plot_dir,
        name=a.dataset,
        split=a.split,
        toys=a.toys,
        seed=a.seed,
        max_events=a.max_events,
    )
    print((Path(a.plot_dir) / f"{a.dataset}_table.md").read_text())
    print(f"results in {Path(a.plot_dir) / a.dataset}.json ({results['events']} {a.split} events)")
    return 0
