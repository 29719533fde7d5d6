"""``omnilearn quickstart``, ``omnilearn pythia-tasks`` (multi-step jobs of
:mod:`omnilearn.workflows`) and ``omnilearn summary`` (parameter counts)."""

from __future__ import annotations

import argparse

from .flags import (
    UsageError,
    add_model_args,
    add_runs_dir,
    model_config,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)

QUICKSTART = """The main job on the embedded data: generate Pythia jets, pretrain OmniLearn, fine-tune a top
tagger from it (and train one from scratch), evaluate both, and plot.

Example:

    omnilearn quickstart --seed 1

Writes the jets to <data_dir>/pythia and <data_dir>/toptag_pythia (cached), the runs by the usual
rule under <runs_dir> (default runs/quickstart): pretrain/, toptag_pythia_omnilearn/ and
toptag_pythia_scratch/ (each with its results.json), and into <plot_dir> (default
plots/quickstart) what `omnilearn report` writes: toptag_pythia_{omnilearn,scratch}.json (the
results to commit), toptag_pythia_roc.png, toptag_pythia_losses.png, toptag_pythia_table.md, and
pretrain_losses.png. Sized to finish in minutes on 2 CPU cores (a narrower, shallower PET on the
leading 64 particles); --paper_size uses the paper's configuration.
"""

PYTHIA_TASKS = """Top tagging and quark/gluon on Pythia jets generated here in the released formats: generate ->
real preprocessor -> fine-tune the quick start's pretrained OmniLearn vs scratch -> evaluate -> plot.

Example:

    omnilearn quickstart                        # once: the pretrained body (runs/quickstart/pretrain/best)
    omnilearn pythia-tasks --tasks top qg

Writes <data_dir>/{top,qg}_public (the released formats), <data_dir>/{top,qg} (converted),
<runs_dir>/<task>_{omnilearn,scratch} (checkpoints, results.json) and, as `omnilearn report`,
<plot_dir>/<task>_{omnilearn,scratch}.json (the results to commit), <task>_{roc,losses}.png and
<task>_table.md. A rerun reuses the generated files and resumes or skips finished trainings.
"""

PRETRAIN_PYTHIA = """The larger Pythia pretraining: jets of the ten JetClass-like classes the generator makes
(cached), then OmniLearn in mode all (resumed from <runs_dir>/pretrain/last after a kill: rerun
the same command until it is done). The defaults take about an hour of generation and two
hours of training on 2 cores (docs/study.md).

Example:

    omnilearn pretrain-pythia                                   # data/pythia_jetclass10, runs/pythia_jetclass10
    omnilearn study --pretrained plots/pretrain/checkpoint --run_name pythia10

Writes <data_dir>/pythia_jetclass10/{train,val,test}.h5, <runs_dir>/pretrain/{best,last} and
<plot_dir>/pretrain_pythia.json (settings, wall times, losses per epoch),
pretrain_pythia_losses.png and <plot_dir>/checkpoint (a copy of the best checkpoint): the
results to commit.
"""

STUDY = """Data efficiency and convergence: on the Pythia top and qg tasks (the released formats, as
pythia-tasks), fine-tuned vs scratch for each training-set size x seed, scored on independent
test jets (generated with --test_seed, never trained on).

Example:

    omnilearn quickstart                        # once: the pretrained body (runs/quickstart/pretrain/best)
    omnilearn study --sizes 250 1000 4000 16000 --seeds 1 2 3
    omnilearn report --page_only                # the study's section of docs/results.md

The largest size sets the pool (P jets per class) the subsets are drawn from: every call adding
runs to one --plot_dir must give the same largest size.

Writes <data_dir>/{pool,test}/<task>[_public] (generated, converted, cached), the training
subsets <data_dir>/pool/<task>/n<N>_seed<S>_pool<P>.h5, the runs <runs_dir>/<task>/n<N>_seed<S>_pool<P>/<run>,
and into <plot_dir> one result JSON per (task, size, seed, run)
(<task>_n<N>_seed<S>_<run>.json, the results to commit; a rerun skips those present) and the
figures <task>_efficiency.png (AUC and 1/eB vs size) and <task>_convergence.png (validation
loss per epoch). See docs/study.md for the wall time.
"""

SUMMARY = """Print the parameter count of the PET body and of each head (defaults: the paper's model).

Example:

    omnilearn summary --projection_dim 64 --num_layers 4
"""


def add_quickstart(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..workflows.quickstart import QuickstartConfig

    d = QuickstartConfig()
    p.description = QUICKSTART
    p.add_argument("--data_dir", default=d.data_dir, help="folder of the generated datasets")
    add_runs_dir(p, d.run_dir)
    p.add_argument("--plot_dir", default=d.plot_dir, help="folder of the figures and tables")
    p.add_argument(
        "--pretrain_jets", type=positive_int, default=d.pretrain_jets_per_class, help="jets per class, 5 classes"
    )
    p.add_argument(
        "--finetune_jets", type=positive_int, default=d.finetune_jets_per_class, help="jets per class, top and QCD"
    )
    p.add_argument("--pretrain_epochs", type=positive_int, default=d.pretrain_epochs, help="epochs of pretraining")
    p.add_argument("--finetune_epochs", type=positive_int, default=d.finetune_epochs, help="epochs of each tagger")
    p.add_argument("--batch", type=positive_int, default=d.batch, help="batch size")
    p.add_argument("--num_particles", type=positive_int, default=d.num_particles, help="leading particles per jet")
    p.add_argument("--workers", type=positive_int, default=d.workers, help="Pythia processes")
    p.add_argument("--seed", type=int, default=d.seed, help="seeds generation and training")
    p.add_argument("--no_scratch", dest="compare_scratch", action="store_false", help="skip the from-scratch baseline")
    p.add_argument("--paper_size", action="store_true", help="the paper's PET (1.3 M body); slow on a CPU")
    p.set_defaults(handler=quickstart)


def quickstart(a: argparse.Namespace) -> int:
    from ..workflows.quickstart import QuickstartConfig, run

    run(
        QuickstartConfig(
            data_dir=a.data_dir,
            run_dir=a.runs_dir,
            plot_dir=a.plot_dir,
            pretrain_jets_per_class=a.pretrain_jets,
            finetune_jets_per_class=a.finetune_jets,
            workers=a.workers,
            seed=a.seed,
            pretrain_epochs=a.pretrain_epochs,
            finetune_epochs=a.finetune_epochs,
            batch=a.batch,
            num_particles=a.num_particles,
            compare_scratch=a.compare_scratch,
            paper_size=a.paper_size,
        )
    )
    return 0


def _add_recipe(p: argparse.ArgumentParser, d) -> None:
    """The fine-tuning recipe flags that pythia-tasks and study share (defaults from config ``d``)."""
    p.add_argument("--epoch", type=positive_int, default=d.epochs, help="epochs of each training (no early stopping)")
    p.add_argument("--warm_epoch", type=nonnegative_int, default=d.warm_epoch, help="learning-rate warm-up epochs")
    p.add_argument("--batch", type=positive_int, default=d.batch, help="batch size")
    p.add_argument("--lr", type=positive_float, default=d.lr, help="initial learning rate")
    p.add_argument("--wd", type=nonnegative_float, default=d.wd, help="LION weight decay")
    p.add_argument("--num_particles", type=positive_int, default=d.num_particles, help="leading particles per jet")
    p.add_argument("--bootstrap", type=nonnegative_int, default=d.bootstrap, help="test-set resamples (uncertainties)")


def _recipe(a: argparse.Namespace) -> dict:
    """The config fields of :func:`_add_recipe`'s flags."""
    return {
        "epochs": a.epoch,
        "warm_epoch": a.warm_epoch,
        "batch": a.batch,
        "lr": a.lr,
        "wd": a.wd,
        "num_particles": a.num_particles,
        "bootstrap": a.bootstrap,
    }


def add_pythia_tasks(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..workflows.pythia_tasks import TASK_NAMES, PythiaTaskConfig

    d = PythiaTaskConfig()
    p.description = PYTHIA_TASKS
    p.add_argument("--tasks", nargs="+", default=list(TASK_NAMES), choices=TASK_NAMES)
    p.add_argument("--jets_per_class", type=positive_int, default=d.jets_per_class, help="generated jets per class")
    p.add_argument("--workers", type=positive_int, default=d.workers, help="Pythia processes")
    p.add_argument("--seed", type=int, default=d.seed, help="seeds generation and training")
    p.add_argument("--data_dir", default=d.data_dir, help="folder of the generated datasets")
    add_runs_dir(p, d.runs_dir)
    p.add_argument("--plot_dir", default=d.plot_dir, help="folder of the figures and tables")
    p.add_argument("--pretrained", default=d.pretrained, help="pretrained checkpoint; its size sets the model's")
    _add_recipe(p, d)
    p.add_argument("--no_scratch", dest="compare_scratch", action="store_false", help="skip the from-scratch run")
    p.set_defaults(handler=pythia_tasks)


def pythia_tasks(a: argparse.Namespace) -> int:
    from ..workflows.pythia_tasks import PythiaTaskConfig, run

    cfg = PythiaTaskConfig(
        jets_per_class=a.jets_per_class,
        workers=a.workers,
        seed=a.seed,
        data_dir=a.data_dir,
        runs_dir=a.runs_dir,
        plot_dir=a.plot_dir,
        pretrained=a.pretrained,
        **_recipe(a),
        compare_scratch=a.compare_scratch,
    )
    results = run(tuple(a.tasks), cfg)
    print(f"\n{'task':5s} {'model':10s} {'accuracy':>9s} {'AUC':>7s} {'1/eB@eS=0.5':>12s} {'1/eB@eS=0.3':>12s}")
    for task, by_run in results.items():
        for name, r in by_run.items():
            print(
                f"{task:5s} {name:10s} {r['accuracy']:9.3f} {r['auc']:7.4f} {r['rejection']['0.5']:12.1f} "
                f"{r['rejection']['0.3']:12.1f}"
            )
    return 0


def add_pretrain_pythia(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..workflows.pretrain_pythia import PretrainConfig

    d = PretrainConfig()
    p.description = PRETRAIN_PYTHIA
    p.add_argument("--jets_per_class", type=positive_int, default=d.jets_per_class, help="generated jets per class")
    p.add_argument("--workers", type=positive_int, default=d.workers, help="Pythia processes")
    p.add_argument("--seed", type=int, default=d.seed, help="seeds generation and training")
    p.add_argument("--data_dir", default=d.data_dir, help="folder of the generated datasets")
    add_runs_dir(p, d.runs_dir)
    p.add_argument("--plot_dir", default=d.plot_dir, help="folder of the result JSON and the loss figure")
    p.add_argument("--epoch", type=positive_int, default=d.epochs, help="epochs of pretraining")
    p.add_argument("--warm_epoch", type=nonnegative_int, default=d.warm_epoch, help="learning-rate warm-up epochs")
    p.add_argument("--batch", type=positive_int, default=d.batch, help="batch size")
    p.add_argument("--lr", type=positive_float, default=d.lr, help="initial learning rate")
    p.add_argument("--num_particles", type=positive_int, default=d.num_particles, help="leading particles per jet")
    p.add_argument("--paper_size", action="store_true", help="the paper's PET (1.3 M body); slow on a CPU")
    p.set_defaults(handler=pretrain_pythia)


def pretrain_pythia(a: argparse.Namespace) -> int:
    from ..workflows.pretrain_pythia import PretrainConfig, run

    summary = run(
        PretrainConfig(
            data_dir=a.data_dir,
            runs_dir=a.runs_dir,
            plot_dir=a.plot_dir,
            jets_per_class=a.jets_per_class,
            workers=a.workers,
            seed=a.seed,
            epochs=a.epoch,
            warm_epoch=a.warm_epoch,
            batch=a.batch,
            lr=a.lr,
            num_particles=a.num_particles,
            paper_size=a.paper_size,
        )
    )
    print(
        f"pretrained {summary['epochs_done']} epochs on {summary['jets']['train']} jets "
        f"({len(summary['classes'])} classes), best val_loss {summary['best_val_loss']}: "
        f"{a.runs_dir}/pretrain/best"
    )
    return 0


def add_study(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..workflows.pythia_tasks import TASK_NAMES
    from ..workflows.study import StudyConfig

    d = StudyConfig()
    p.description = STUDY
    p.add_argument("--tasks", nargs="+", default=list(d.tasks), choices=TASK_NAMES)
    p.add_argument("--sizes", nargs="+", type=positive_int, default=list(d.sizes), help="training jets per run")
    p.add_argument("--seeds", nargs="+", type=int, default=list(d.seeds), help="a training subset and run per seed")
    p.add_argument("--test_jets", type=positive_int, default=d.test_jets_per_class, help="test jets per class")
    p.add_argument("--gen_seed", type=int, default=d.gen_seed, help="seed of the training pool's generation")
    p.add_argument("--test_seed", type=int, default=d.test_seed, help="seed of the test jets' generation")
    p.add_argument("--workers", type=positive_int, default=d.workers, help="Pythia processes")
    p.add_argument("--data_dir", default=d.data_dir, help="folder of the generated datasets")
    add_runs_dir(p, d.runs_dir)
    p.add_argument("--plot_dir", default=d.plot_dir, help="folder of the result JSONs and figures")
    p.add_argument("--pretrained", default=d.pretrained, help="pretrained checkpoint; its size sets the model's")
    p.add_argument(
        "--run_name",
        type=_run_name,
        default=d.run_name,
        help="name of the fine-tuned run (letters, digits): another name adds another body's curve",
    )
    p.add_argument(
        "--upstream", default=None, help="the authors' weights (omnilearn import-upstream --out DIR): a third run"
    )
    _add_recipe(p, d)
    p.set_defaults(handler=study)


def _run_name(name: str) -> str:
    from ..evaluation.study import check_run_name

    try:
        return check_run_name(name)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def study(a: argparse.Namespace) -> int:
    from ..workflows.study import StudyConfig, run

    if any(size % 2 for size in a.sizes):
        raise UsageError("--sizes: each size must be even (half of each class)")
    cfg = StudyConfig(
        tasks=tuple(a.tasks),
        sizes=tuple(sorted(set(a.sizes))),
        seeds=tuple(a.seeds),
        test_jets_per_class=a.test_jets,
        gen_seed=a.gen_seed,
        test_seed=a.test_seed,
        workers=a.workers,
        data_dir=a.data_dir,
        runs_dir=a.runs_dir,
        plot_dir=a.plot_dir,
        pretrained=a.pretrained,
        run_name=a.run_name,
        upstream=a.upstream,
        **_recipe(a),
    )
    summary = run(cfg)
    for task, s in summary.items():
        for run_name, metrics in s["efficiency"].items():
            auc = metrics["auc"]
            cells = ", ".join(f"{n}: {m:.4f}" for n, m in zip(auc["size"], auc["median"]))
            print(f"{task} {run_name:10s} median AUC by size: {cells}")
    return 0


def add_summary(p: argparse.ArgumentParser, argv: list[str]) -> None:
    p.description = SUMMARY
    add_model_args(p)
    g = p.add_argument_group("data")
    g.add_argument("--num_classes", type=positive_int, default=None, help="classes of the heads (default: JetClass's)")
    g.add_argument("--num_feat", type=positive_int, default=None, help="particle features (default: the paper's 13)")
    p.set_defaults(handler=summary, mode="all")


def summary(a: argparse.Namespace) -> int:
    from ..models import build_body, build_classifier, build_generator

    cfg = model_config(a)
    cfg = cfg.replace(**{k: getattr(a, k) for k in ("num_classes", "num_feat") if getattr(a, k) is not None})
    print(f"body {build_body(cfg).count_params()}")
    print(f"classifier {build_classifier(cfg).count_params()}")
    print(f"generator {build_generator(cfg).count_params()}")
    return 0
