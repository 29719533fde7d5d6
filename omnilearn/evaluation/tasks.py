"""The paper's classification tasks (arXiv:2404.16091, Tables I–V) as one declarative table.

Each :class:`ClassificationTask` names its dataset (see :mod:`omnilearn.datasets.registry`), the
signal class, the signal efficiencies at which the paper quotes 1/εB and the paper's table of
it (:mod:`omnilearn.paper`, the one home of the published numbers). :func:`evaluate_task`
scores the trained runs of a task (``runs/<dataset>_omnilearn`` fine-tuned,
``runs/<dataset>_scratch`` from scratch) on the test split and writes ``results.json`` next to
each checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..paper import TABLE_I, TABLE_II, TABLE_III, TABLE_IV, TABLE_V, PaperTable, PublishedRow, rejection_key
from ..runs import run_dir as rule_run_dir
from .results import read_json, write_json

#: Run name → label in tables and plots: the fine-tuned model and the same PET trained from scratch.
RUNS: Mapping[str, str] = {"omnilearn": "OmniLearn (fine-tuned)", "scratch": "PET classifier (scratch)"}

RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class ClassificationTask:
    """A classification benchmark: dataset, metric definition and the paper's table of it (its
    training recipe: :func:`omnilearn.recipes.recipe_for`)."""

    dataset: str
    title: str
    #: class index whose probability is the score (label order of the dataset's files)
    signal: int
    #: signal efficiencies εS of the 1/εB columns, in the paper's column order
    efficiencies: tuple[float, ...]
    #: the paper's table of this task (:mod:`omnilearn.paper`), None when it has none
    paper: PaperTable | None = None
    #: names of the paper rows our two runs correspond to
    paper_scratch: str = "PET classifier"
    paper_omnilearn: str = "OmniLearn"
    notes: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Metric column keys (``accuracy``, ``auc``, ``rejection@<εS>``) in the paper's order
        (Tables I–II: Acc first; III–V: AUC first); Acc, AUC, 1/εB for a task without a table."""
        if self.paper is not None:
            return self.paper.columns
        return ("accuracy", "auc", *(rejection_key(e) for e in self.efficiencies))

    def paper_row_for(self, run: str) -> PublishedRow | None:
        """The published row matching one of our runs (``"omnilearn"`` or ``"scratch"``)."""
        if self.paper is None:
            return None
        return self.paper.row(self.paper_omnilearn if run == "omnilearn" else self.paper_scratch)

    def run_dir(self, runs_dir: str | os.PathLike, run: str) -> Path:
        """``<runs_dir>/<dataset>_<run>`` (:func:`omnilearn.runs.run_dir`): where ``omnilearn finetune`` writes."""
        return rule_run_dir(runs_dir, self.dataset, run)


_ATLAS = dict(signal=1, efficiencies=(0.5, 0.8), paper=TABLE_IV)

#: dataset name → task; every dataset is registered in :mod:`omnilearn.datasets.registry`.
TASKS: dict[str, ClassificationTask] = {
    t.dataset: t
    for t in (
        ClassificationTask(
            "top",
            "Top tagging (Delphes, 550 < pT < 650 GeV)",
            signal=1,
            efficiencies=(0.5, 0.3),
            paper=TABLE_I,
            paper_scratch="PET Classifier",
        ),
        ClassificationTask(
            "qg",
            "Quark vs gluon (Pythia 8, 500 < pT < 550 GeV)",
            signal=1,
            efficiencies=(0.5, 0.3),
            paper=TABLE_II,
        ),
        ClassificationTask(
            "cms",
            "Quark vs gluon, CMS 2011A Open Data simulation",
            signal=1,
            efficiencies=(0.5, 0.8),
            paper=TABLE_III,
        ),
        ClassificationTask(
            "atlas",
            "ATLAS top tagging (full training set, 40M jets)",
            **_ATLAS,
            paper_scratch="PET classifier (40M)",
            paper_omnilearn="OmniLearn (40M)",
        ),
        ClassificationTask(
            "atlas_small",
            "ATLAS top tagging (10 % of the training set, 4M jets)",
            **_ATLAS,
            paper_scratch="PET classifier (4M)",
            paper_omnilearn="OmniLearn (4M)",
        ),
        ClassificationTask(
            "h1",
            "H1 DIS: Rapgap vs Djangoh leading jets",
            signal=1,
            efficiencies=(0.1, 0.5),
            paper=TABLE_V,
        ),
        # The embedded Pythia top-tagging sample: no published numbers.
        ClassificationTask(
            "toptag_pythia",
            "Top tagging (embedded Pythia sample)",
            signal=1,
            efficiencies=(0.5, 0.3),
            paper_scratch="PET Classifier",  # the spelling of its counterpart in Table I
            notes=("The paper has no table for this sample; compare the two runs with each other.",),
        ),
    )
}


def get_task(dataset: str) -> ClassificationTask:
    """The task of ``dataset``; KeyError listing the known tasks otherwise."""
    try:
        return TASKS[dataset]
    except KeyError:
        raise KeyError(f"no classification task for {dataset!r}; known: {sorted(TASKS)}") from None


#: Titles of the top and q/g tasks on jets generated here (``omnilearn pythia-tasks``).
_PYTHIA_TITLES = {
    "top": "Top vs QCD, Pythia 8 here (generator level, 550 < pT < 650 GeV)",
    "qg": "Quark vs gluon, Pythia 8 here (Z + jet, 500 < pT < 550 GeV)",
}


def pythia_sample_task(dataset: str) -> ClassificationTask:
    """The paper's ``top`` or ``qg`` task (signal class, εS) on the Pythia jets that
    ``omnilearn pythia-tasks`` generates in the released format: no published rows, since the
    paper's numbers are for the released datasets."""
    if dataset not in _PYTHIA_TITLES:
        raise KeyError(f"no Pythia version of {dataset!r}; known: {sorted(_PYTHIA_TITLES)}")
    return replace(
        get_task(dataset),
        title=_PYTHIA_TITLES[dataset],
        paper=None,
        notes=(
            "Generated here with Pythia 8 in the released format and converted by the real "
            "preprocessor; the paper's numbers are for the released datasets and are not comparable.",
        ),
    )


# -- evaluation --------------------------------------------------------------------------------


def evaluate_run(
    task: ClassificationTask,
    run_dir: str | os.PathLike,
    data_dir: str | os.PathLike,
    *,
    checkpoint_name: str = "best",
    bootstrap: int = 100,
    batch_size: int = 1000,
    num_particles: int | None = None,
    weighted: bool = False,
    seed: int = 0,
) -> dict:
    """Metrics, bootstrap standard deviations and ROC points of one run on the test split
    (:func:`~omnilearn.evaluation.classification.evaluate_checkpoint`), with what produced them.

    ``num_particles`` defaults to the value the run was trained with (its checkpoint's data settings).
    Unweighted by default, as the published numbers are: the ATLAS per-jet weights are
    training weights; ``weighted=True`` uses the files' weights in every metric.
    """
    from ..datasets import registry
    from ..training import checkpoint
    from .classification import evaluate_checkpoint

    run_dir = Path(run_dir)
    ckpt = run_dir / checkpoint_name
    meta = checkpoint.read_meta(ckpt)
    if num_particles is None:
        num_particles = (meta.get("data") or {}).get("num_particles")
    test_files = registry.get(task.dataset).files(data_dir, "test")
    signal_class = registry.get(task.dataset).classes[task.signal]
    result = evaluate_checkpoint(
        ckpt,
        test_files,
        task.signal,
        task.efficiencies,
        batch_size=batch_size,
        bootstrap=bootstrap,
        num_particles=num_particles,
        weighted=weighted,
        seed=seed,
        signal_class=signal_class,
    )
    history = run_dir / "history.csv"
    return {
        "task": task.dataset,
        "run": run_dir.name,
        "checkpoint": str(ckpt),
        "epoch": meta.get("epoch"),
        "test_files": [str(f) for f in test_files],
        "signal": task.signal,
        "signal_class": signal_class,
        "efficiencies": list(task.efficiencies),
        "weighted": weighted,
        "bootstrap": bootstrap,
        "num_particles": num_particles,
        "model": meta.get("model"),
        "train": meta.get("train") or None,
        "history": str(history) if history.exists() else None,
        **result,
    }


def evaluate_task(
    task: ClassificationTask,
    data_dir: str | os.PathLike,
    runs_dir: str | os.PathLike = "runs",
    runs: Iterable[str] = tuple(RUNS),
    **options,
) -> dict[str, Path]:
    """Evaluate each run of ``task`` that has a checkpoint; write ``<run dir>/results.json``.

    Runs without a ``best`` checkpoint are skipped with a one-line message.  Returns
    {run: path of its results.json}; ``options`` go to :func:`evaluate_run`.
    """
    from ..training import checkpoint

    written = {}
    for run in runs:
        run_dir = task.run_dir(runs_dir, run)
        if checkpoint.resolve(run_dir / options.get("checkpoint_name", "best")) is None:
            print(f"{task.dataset}/{run}: no checkpoint in {run_dir}, skipped")
            continue
        result = {**evaluate_run(task, run_dir, data_dir, **options), "run": run}
        written[run] = write_json(result, run_dir / RESULTS_FILE)
        rej = ", ".join(f"1/eB@{k}={v:.4g}" for k, v in result["rejection"].items())
        print(
            f"{task.dataset}/{run}: acc={result['accuracy']:.4f} AUC={result['auc']:.4f} {rej} "
            f"({result['n']} jets) -> {written[run]}"
        )
    return written


def load_results(
    task: ClassificationTask, runs_dir: str | os.PathLike = "runs", runs: Iterable[str] = tuple(RUNS)
) -> dict[str, dict]:
    """{run: its results.json} for the runs of ``task`` that have been evaluated."""
    return _read({run: task.run_dir(runs_dir, run) / RESULTS_FILE for run in runs})


# -- the copies committed under plots/ ---------------------------------------------------------

#: Keys of a results.json that name files of the machine it ran on: left out of the published copy.
_LOCAL_KEYS = ("checkpoint", "test_files", "history")


def published(result: Mapping, history: Mapping[str, list[float]] | None = None, max_points: int = 200) -> dict:
    """The copy of a run's results.json that is committed under ``plots/``: no paths of the
    machine it ran on, a ROC curve of at most ``max_points`` points (6 significant digits) and,
    from the run's ``history.csv``, the loss columns per epoch (``losses``)."""
    from .classification import thin_roc

    copy = {k: v for k, v in result.items() if k not in _LOCAL_KEYS}
    roc = thin_roc(result["roc"], max_points)
    copy["roc"] = {k: [float(f"{x:.6g}") for x in v] for k, v in roc.items()}
    losses = {k: [float(f"{x:.6g}") for x in v] for k, v in (history or {}).items() if k.endswith("loss")}
    if losses:
        copy["losses"] = losses
    return copy


def published_path(plot_dir: str | os.PathLike, dataset: str, run: str) -> Path:
    """``<plot_dir>/<dataset>_<run>.json``: where ``omnilearn report`` writes the published copy."""
    return Path(plot_dir) / f"{dataset}_{run}.json"


def load_published(
    task: ClassificationTask, plot_dir: str | os.PathLike = "plots", runs: Iterable[str] = tuple(RUNS)
) -> dict[str, dict]:
    """{run: its published copy} for the runs of ``task`` that have one in ``plot_dir``."""
    return _read({run: published_path(plot_dir, task.dataset, run) for run in runs})


def _read(paths: Mapping[str, Path]) -> dict[str, dict]:
    return {run: read_json(path) for run, path in paths.items() if path.exists()}
