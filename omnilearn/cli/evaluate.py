"""``omnilearn evaluate`` (classifiers on their test split, JetNet samples against theirs) and
``omnilearn report`` (tables and plots of the evaluated tasks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import recipes, runs
from .flags import UsageError, add_runs_dir, nonnegative_int, positive_int

#: JetNet run → the paper's row label (Tables VI–VII); " (Ideal)" is appended for --ideal samples.
GENERATION_LABELS = {runs.FINE_TUNED: "OmniLearn", runs.SCRATCH: "PET generator"}

EVALUATE = """Score trained models on the test split: classifiers (accuracy, AUC, 1/eB at the paper's eS)
or generated JetNet jets (W1 distances, coverage/MMD, FPND), beside the paper's numbers.

Examples:

    omnilearn evaluate --dataset top                    # runs/top_{omnilearn,scratch}/results.json
    omnilearn evaluate --dataset top qg --runs omnilearn --bootstrap 20
    omnilearn evaluate --dataset jetnet30     # samples/jetnet30_* -> plots/jetnet/jetnet30_generation.{json,md}

Classification: evaluates <runs_dir>/<dataset>_<run>/best for each of --runs (runs not trained
yet are skipped), with the particle count it was trained with (read from the checkpoint), and
writes <runs_dir>/<dataset>_<run>/results.json: the metrics, their bootstrap standard deviations,
ROC points and the run's history.csv. Then: `omnilearn report`.
JetNet: evaluates every sample folder <samples_dir>/<dataset>_<run>[_ideal] of --runs that exists
(what `omnilearn sample` writes; --samples LABEL=DIR to name others) and writes
<results_dir>/<dataset>_generation.json and .md (the paper's rows beside the measured ones),
<plot_dir>/<dataset>_generation.png (generated vs true distributions per class) and
<plot_dir>/<dataset>_losses.png (the runs' training and validation losses, the paper's Fig. 6).
W1: mean and std over 5 bootstrap draws; coverage/MMD: --cov_batches draws of 100 jets (needs
POT); FPND only for JetNet30 with jetnet's ParticleNet (torch), else "-".
"""

REPORT = """ROC curves, validation-loss curves and a paper-style Markdown table for each evaluated task,
then the results page docs/results.md.

Examples:

    omnilearn report --dataset top qg --runs_dir runs --plot_dir plots
    omnilearn report --page_only                      # regenerate docs/results.md from plots/

Reads <runs_dir>/<dataset>_<run>/results.json (written by `omnilearn evaluate`) and writes
<plot_dir>/<dataset>_<run>.json (the copy to commit: no machine paths, a thin ROC curve, the
loss per epoch), then from those <dataset>_roc.png, <dataset>_losses.png and <dataset>_table.md;
tasks without results are skipped. The page (--page, default docs/results.md) is generated only
from the result files under --plots_root (default plots: quickstart/, pythia_tasks/, jetnet/
and the paper tasks' <dataset>_<run>.json), beside the paper's rows (omnilearn/paper.py); a task
without results is listed as not run yet, with the command that makes it.
"""


def _classification_tasks() -> list[str]:
    from ..evaluation import tasks

    return sorted(tasks.TASKS)


def add_evaluate(p: argparse.ArgumentParser, argv: list[str]) -> None:
    choices = _classification_tasks() + list(recipes.generation_datasets())
    p.description = EVALUATE
    p.add_argument("--dataset", nargs="+", required=True, choices=choices, metavar="DATASET", help=str(choices))
    p.add_argument("--data_dir", default="data", help="folder holding <dataset>/test.h5")
    add_runs_dir(p)
    p.add_argument("--runs", nargs="+", default=list(runs.TASK_RUNS), help="run names: <runs_dir>/<dataset>_<run>")
    p.add_argument("--seed", type=int, default=0, help="seeds the bootstrap draws")
    g = p.add_argument_group("classification")
    g.add_argument("--checkpoint", default="best", help="checkpoint folder inside each run")
    g.add_argument("--bootstrap", type=nonnegative_int, default=100, help="test-set resamples for the uncertainties")
    g.add_argument("--batch", type=positive_int, default=1000, help="evaluation batch size")
    g.add_argument("--num_particles", type=positive_int, default=None, help="default: as trained (from the checkpoint)")
    g.add_argument("--weighted", action="store_true", help="weight every metric by the files' per-jet weights")
    g = p.add_argument_group("JetNet generation (jetnet30, jetnet150)")
    g.add_argument("--samples_dir", default="samples", help="folder of the <dataset>_<run>[_ideal] sample folders")
    g.add_argument("--samples", nargs="+", default=None, help="LABEL=DIR (or DIR: its name is the label) instead")
    g.add_argument(
        "--results_dir", default="plots/jetnet", help="folder of <dataset>_generation.json and .md (read by the page)"
    )
    g.add_argument("--plot_dir", default="plots/jetnet", help="folder of the figures")
    g.add_argument("--no_fpnd", action="store_true", help="skip FPND (needs torch and jetnet)")
    g.add_argument("--no_paper", action="store_true", help="leave the paper's rows out of the table")
    g.add_argument("--cov_batches", type=positive_int, default=10, help="draws of the coverage/MMD estimate")
    p.set_defaults(handler=evaluate)


def evaluate(a: argparse.Namespace) -> int:
    found = []
    for name in a.dataset:
        if name in recipes.generation_datasets():
            found.append(_evaluate_generation(a, name))
        else:
            found.append(_evaluate_classification(a, name))
    return 0 if all(found) else 1


def _evaluate_classification(a: argparse.Namespace, name: str) -> bool:
    from ..evaluation import tasks

    check_checkpoints(a, name)
    written = tasks.evaluate_task(
        tasks.get_task(name),
        a.data_dir,
        a.runs_dir,
        a.runs,
        checkpoint_name=a.checkpoint,
        bootstrap=a.bootstrap,
        batch_size=a.batch,
        num_particles=a.num_particles,
        weighted=a.weighted,
        seed=a.seed,
    )
    return bool(written)


def check_checkpoints(a: argparse.Namespace, name: str) -> None:
    """Before anything is computed: every run's checkpoint fits the test files (the classes it
    tells apart, its feature and particle counts: one clear error otherwise; a warning if the
    files lack inputs it was trained with), :func:`omnilearn.training.checkpoint.check_data`."""
    from ..data.format import inspect_file
    from ..datasets import registry
    from ..training import checkpoint

    infos = None
    for run in a.runs:
        ckpt = runs.run_dir(a.runs_dir, name, run) / a.checkpoint
        if checkpoint.resolve(ckpt) is None:
            continue  # evaluate_task says it skips it
        if infos is None:
            infos = [inspect_file(p) for p in registry.get(name).files(a.data_dir, "test")]
        checkpoint.check_data(ckpt, infos, "evaluate", num_particles=a.num_particles)


def labelled(items: list[str]) -> dict[str, Path]:
    """``LABEL=DIR`` items (or ``DIR``: its name is the label) → {label: dir}."""
    out = {}
    for item in items:
        label, _, directory = item.rpartition("=")
        out[label or Path(directory).name] = Path(directory)
    return out


def generation_samples(samples_root: str | Path, dataset: str, run_names: list[str]) -> dict[str, Path]:
    """{paper-style label: folder} of the sample folders the rule gives that exist, in the order
    run, its ``_ideal`` variant, next run (labels: :data:`GENERATION_LABELS`, else the run name)."""
    found = {}
    for run in run_names:
        for ideal in (False, True):
            folder = runs.samples_dir(samples_root, dataset, run, ideal)
            if folder.is_dir():
                found[GENERATION_LABELS.get(run, run) + (" (Ideal)" if ideal else "")] = folder
    return found


def _evaluate_generation(a: argparse.Namespace, name: str) -> bool:
    from ..datasets import registry
    from ..evaluation import generation as gm
    from ..evaluation.results import write_json
    from ..plotting import plot_distributions, plot_losses, read_history
    from ..workflows import jetnet

    samples = labelled(a.samples) if a.samples else generation_samples(a.samples_dir, name, a.runs)
    if not samples:
        print(f"{name}: no samples in {a.samples_dir}/{name}_<run>[_ideal] (runs {a.runs}): run `omnilearn sample`")
        return False
    test = registry.get(name).files(a.data_dir, "test")[0]
    results = jetnet.evaluate(test, samples, seed=a.seed, with_fpnd=not a.no_fpnd, cov_batches=a.cov_batches)
    truth = jetnet.truth_by_class(test)
    num_particles = next(iter(truth.values())).shape[1]
    out, plots = Path(a.results_dir), Path(a.plot_dir)
    write_json(results, out / f"{name}_generation.json")
    table = gm.markdown_table(results, num_particles, with_paper=not a.no_paper)
    (out / f"{name}_generation.md").write_text(table)
    generated = {label: jetnet.read_samples(d, list(truth), num_particles) for label, d in samples.items()}
    written = [
        out / f"{name}_generation.json",
        out / f"{name}_generation.md",
        plot_distributions(truth, generated, plots / f"{name}_generation.png", title=f"{name}: generated vs test jets"),
    ]
    histories = {
        GENERATION_LABELS.get(run, run): read_history(runs.run_dir(a.runs_dir, name, run) / "history.csv")
        for run in a.runs
        if (runs.run_dir(a.runs_dir, name, run) / "history.csv").exists()
    }
    if histories:
        written.append(plot_losses({f"{name}: generator loss": histories}, plots / f"{name}_losses.png"))
    print(table)
    print("wrote " + ", ".join(map(str, written)))
    return True


def add_report(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..report import PAGE

    choices = _classification_tasks()
    p.description = REPORT
    p.add_argument(
        "--dataset",
        "--datasets",
        nargs="+",
        default=choices,
        choices=choices,
        metavar="DATASET",
        help="tasks to report (default: all)",
    )
    add_runs_dir(p)
    p.add_argument("--plot_dir", default="plots", help="folder of the figures, tables and published results")
    g = p.add_argument_group("results page")
    g.add_argument("--page", default=PAGE, help="the results page written after the tasks")
    g.add_argument("--no_page", dest="page", action="store_const", const=None, help="do not write the page")
    g.add_argument("--page_only", action="store_true", help="write only the page (no task is reported)")
    g.add_argument("--plots_root", default="plots", help="the committed plots folder the page is generated from")
    p.set_defaults(handler=report)


def report(a: argparse.Namespace) -> int:
    from .. import report as tables
    from ..evaluation import tasks

    if a.page_only and a.page is None:
        raise UsageError("--page_only and --no_page leave nothing to do")
    for name in [] if a.page_only else a.dataset:
        written = tables.write_report(tasks.get_task(name), a.runs_dir, a.plot_dir)
        if written is None:
            print(f"{name}: no results.json under {a.runs_dir}/{name}_*, skipped")
        else:
            print(f"{name}: wrote {', '.join(map(str, written))}")
    if a.page is not None:
        print(f"wrote {tables.write_page(a.page, a.plots_root)}")
    return 0
