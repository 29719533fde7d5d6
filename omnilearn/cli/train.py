"""``omnilearn train`` (pretraining) and ``omnilearn finetune`` (a task, fine-tuned or from scratch)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import recipes, runs
from .flags import (
    ArgumentParser,
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

TRAIN = """Pretrain OmniLearn: classifier, generator and smeared classifier (mode all) on one dataset.

Examples:

    omnilearn train --dataset jetclass                 # the paper's pretraining -> runs/pretrain/{best,last}
    omnilearn train --dataset pythia --epoch 20        # on the embedded Pythia jets
    horovodrun -np 4 --gloo omnilearn train --dataset pythia    # 4 data-parallel workers (or srun)

Reads <data_dir>/<dataset>/{train,val}.h5 (the unified format) and writes the checkpoints
<runs_dir>/pretrain/{best,last} and <runs_dir>/pretrain/history.csv (--outdir elsewhere); a
rerun resumes from last. Defaults: the pretraining recipe (omnilearn.recipes.PRETRAIN).
"""

FINETUNE = """Train a task: fine-tune the pretrained OmniLearn (--fine_tune) or the same PET from scratch.

Examples:

    omnilearn finetune --dataset top --fine_tune       # -> runs/top_omnilearn (from runs/pretrain/best)
    omnilearn finetune --dataset top                   # -> runs/top_scratch
    omnilearn finetune --dataset atlas --small --fine_tune    # ATLAS, 10 % of the training set
    omnilearn finetune --dataset jetnet30 --fine_tune  # -> runs/jetnet30_omnilearn and runs/jetnet30_jets

The defaults of --mode, --lr, --batch, --epoch, --warm_epoch, --stop_epoch, --wd and
--body_lr_factor are the dataset's recipe (omnilearn.recipes; `--dataset X --help` shows them).
Classification datasets train the classifier head. jetnet30/jetnet150 train the generator head
(paper Sec. VI): first the jet-level model (pT, eta, mass, multiplicity per class; always from
scratch, shared by the fine-tuned and the scratch run) into <runs_dir>/<dataset>_jets unless it
is there, then the particle generator; with --fine_tune the pretrained body and generator head
are loaded (the class-label embedding is new). Reads <data_dir>/<dataset>/{train,val}.h5; writes
<runs_dir>/<dataset>_<omnilearn|scratch>/{best,last} and history.csv (the checkpoints record the
data settings); a rerun resumes from last. Then: `omnilearn evaluate --dataset X` (JetNet:
`omnilearn sample` first).
"""


def add_train(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..datasets import registry

    p.description = TRAIN
    p.add_argument("--dataset", default="pythia", choices=registry.names(), help="dataset to pretrain on")
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/{train,val}.h5")
    add_runs_dir(p)
    p.add_argument("--outdir", default=None, help="default: <runs_dir>/pretrain")
    add_model_args(p)
    add_train_args(p, **recipes.PRETRAIN.flags())
    p.set_defaults(handler=train)


def train(args: argparse.Namespace) -> int:
    from ..training import distributed

    # Under horovodrun/srun: this worker's rank and the worker count; else rank 0 of 1.
    _jet_dataset(args.dataset)
    ctx = distributed.init()
    train_dataset(args, args.outdir or runs.run_dir(args.runs_dir, args.dataset, runs.PRETRAIN), ctx)
    return 0


def _jet_dataset(name: str):
    """The registered dataset ``name``, if ``train``/``finetune`` can read it (per-jet files)."""
    from ..datasets import registry

    dataset = registry.get(name)
    if dataset.layout != "jets":
        raise UsageError(f"{name} holds {dataset.layout} files, not jets: train it with `{dataset.trained_by}`")
    return dataset


def _dataset(name: str | None, small: bool) -> str | None:
    """``--dataset atlas --small`` is ``atlas_small``."""
    return "atlas_small" if small and name == "atlas" else name


def _is_generation(dataset: str | None) -> bool:
    return dataset in recipes.generation_datasets()


def add_finetune(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..datasets import registry

    # The dataset's recipe sets the defaults, so read --dataset (and --small) first.
    pre = ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--dataset")
    pre.add_argument("--small", action="store_true")
    known, _ = pre.parse_known_args(argv)
    name = _dataset(known.dataset, known.small)
    recipe = recipes.recipe_for(name).flags()
    recipe["mode"] = "generator" if _is_generation(name) else "classifier"
    body_lr_factor = recipe.pop("body_lr_factor")

    p.description = FINETUNE
    p.add_argument("--dataset", required=True, choices=registry.names(), metavar="DATASET", help=str(registry.names()))
    p.add_argument("--small", action="store_true", help="with --dataset atlas: the 10 %% subset (atlas_small)")
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/{train,val}.h5")
    add_runs_dir(p)
    p.add_argument("--outdir", default=None, help="default: <runs_dir>/<dataset>_<omnilearn|scratch>")
    p.add_argument(
        "--body_lr_factor",
        type=positive_float,
        default=body_lr_factor,
        help="body learning rate / head learning rate with --fine_tune",
    )
    add_model_args(p)
    add_train_args(p, **recipe)
    g = p.add_argument_group("JetNet generation (jetnet30, jetnet150)")
    g.add_argument("--jet_dir", default=None, help="jet-level model (default <runs_dir>/<dataset>_jets)")
    g.add_argument("--jet_epochs", type=positive_int, default=200, help="epochs of the jet-level model")
    g.add_argument(
        "--model_from",
        default=None,
        help="take the architecture from this checkpoint (default with --fine_tune: --pretrained; else the flags)",
    )
    p.set_defaults(handler=finetune)


def finetune(args: argparse.Namespace) -> int:
    if args.small and args.dataset != "atlas":
        raise UsageError("--small applies to --dataset atlas only")
    args.dataset = _dataset(args.dataset, args.small)
    _jet_dataset(args.dataset)
    generation = _is_generation(args.dataset)
    if not generation and (args.jet_dir or args.model_from):
        raise UsageError(f"--jet_dir and --model_from apply to {list(recipes.generation_datasets())} only")
    if generation and (args.mode != "generator" or args.num_particles is not None):
        raise UsageError(f"{args.dataset} trains the generator (--mode generator) on every particle of its files")
    if args.fine_tune:
        require_checkpoint(
            pretrained(args), "pretrained", "run `omnilearn train` first (or give --pretrained, or drop --fine_tune)"
        )
    from ..training import distributed

    ctx = distributed.init()
    outdir = args.outdir or runs.run_dir(args.runs_dir, args.dataset, runs.task_run(args.fine_tune))
    if generation:
        _train_generator(args, outdir, ctx)
    else:
        train_dataset(args, outdir, ctx)
    return 0


def train_dataset(args: argparse.Namespace, outdir: str | Path, ctx):
    """Train on the registered ``args.dataset`` (its train/val files under ``args.data_dir``) into
    ``outdir``, as this worker of ``ctx`` (:func:`omnilearn.training.distributed.init`); the
    pretrained model is loaded only with ``--fine_tune``. Returns the training result."""
    from ..training.run import run_training

    dataset = _jet_dataset(args.dataset)
    result = run_training(
        dataset.files(args.data_dir, "train"),
        dataset.files(args.data_dir, "val"),
        outdir,
        model_config(args),
        train_config(args),
        pretrained=pretrained(args) if args.fine_tune else None,
        dataset=args.dataset,
        num_particles=args.num_particles,
        rank=ctx.rank,
        num_workers=ctx.size,
        seed=args.seed,
        resume=args.resume,
    )
    if ctx.is_root:
        print(f"checkpoints in {result.outdir}/best and {result.outdir}/last")
    return result


def _train_generator(args: argparse.Namespace, outdir: str | Path, ctx):
    """The JetNet jet-level model (unless there) and generator head (:func:`omnilearn.workflows.jetnet.train`)."""
    from ..workflows import jetnet

    jet_dir = args.jet_dir or runs.run_dir(args.runs_dir, args.dataset, runs.JETS)
    model_from = args.model_from or (pretrained(args) if args.fine_tune else None)
    if model_from is not None:
        require_checkpoint(model_from, "--model_from", "give the checkpoint whose architecture to use")
    result = jetnet.train(
        args.dataset,
        args.data_dir,
        outdir,
        jetnet.model_config_from(model_from) if model_from else model_config(args),
        train_config(args),
        pretrained=pretrained(args) if args.fine_tune else None,
        jet_dir=jet_dir,
        jet_epochs=args.jet_epochs,
        seed=args.seed,
        resume=args.resume,
        rank=ctx.rank,
        num_workers=ctx.size,
    )
    if ctx.is_root:
        print(f"jet model in {jet_dir}; generator checkpoints in {result.outdir}/best and {result.outdir}/last")
    return result
