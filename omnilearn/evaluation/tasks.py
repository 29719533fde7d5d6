"""The paper's classification tasks (arXiv:2404.16091, Tables I–V) as one declarative table.

Each :class:`ClassificationTask` names its dataset (see :mod:`omnilearn.data.registry`), the
signal class, the signal efficiencies at which the paper quotes 1/εB, the fine-tune recipe and
the paper's published rows, transcribed as printed.  :func:`evaluate_task` scores the trained
runs of a task (``runs/<dataset>_omnilearn`` fine-tuned, ``runs/<dataset>_scratch`` from
scratch) on the test split and writes ``results.json`` next to each checkpoint.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

#: Run name → label in tables and plots: the fine-tuned model and the same PET trained from scratch.
RUNS: Mapping[str, str] = {"omnilearn": "OmniLearn (fine-tuned)", "scratch": "PET classifier (scratch)"}

#: What ``finetune.py`` writes next to the checkpoints: the command-line arguments of the run.
ARGS_FILE = "args.json"
RESULTS_FILE = "results.json"

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?")


@dataclass(frozen=True)
class Recipe:
    """Training flags of a task (the defaults of ``scripts/finetune.py``).

    ``body_lr_factor`` multiplies the body's learning rate when fine-tuning (the upstream
    ``--lr_factor`` divides it: ``lr_factor 10`` is 0.1 here).
    """

    lr: float = 3e-5
    batch: int = 256
    epoch: int = 10
    warm_epoch: int = 3
    stop_epoch: int = 3
    wd: float = 0.1
    body_lr_factor: float = 0.1

    def flags(self) -> dict[str, float | int]:
        """The recipe as argparse defaults (``--lr``, ``--batch``, …)."""
        return {k: getattr(self, k) for k in ("lr", "batch", "epoch", "warm_epoch", "stop_epoch", "wd",
                                              "body_lr_factor")}


def _parse(text: str | None) -> tuple[float | None, float | None]:
    """``"568 ± 9"`` → (568.0, 9.0); ``"0.9872"`` → (0.9872, None); None or ``"-"`` → (None, None)."""
    if text is None:
        return None, None
    numbers = [float(n) for n in _NUMBER.findall(text)]
    return (numbers[0] if numbers else None), (numbers[1] if len(numbers) > 1 else None)


@dataclass(frozen=True)
class PaperRow:
    """One row of a paper table, each entry the text as printed (None where it prints "-")."""

    model: str
    accuracy: str | None
    auc: str | None
    #: 1/εB entries in the order of the task's ``efficiencies``
    rejection: tuple[str | None, ...]

    def text(self, metric: str, efficiency: float | None = None, efficiencies: Sequence[float] = ()) -> str | None:
        """The printed entry of ``metric`` ("accuracy", "auc" or "rejection" at ``efficiency``)."""
        if metric != "rejection":
            return getattr(self, metric)
        return self.rejection[list(efficiencies).index(efficiency)]

    def value(self, metric: str, efficiency: float | None = None, efficiencies: Sequence[float] = ()) -> float | None:
        """The number of an entry (without its uncertainty)."""
        return _parse(self.text(metric, efficiency, efficiencies))[0]


def _row(model: str, accuracy: str | None, auc: str | None, *rejection: str | None) -> PaperRow:
    return PaperRow(model, accuracy, auc, tuple(rejection))


@dataclass(frozen=True)
class ClassificationTask:
    """A classification benchmark: dataset, metric definition, recipe and the paper's numbers."""

    dataset: str
    title: str
    #: class index whose probability is the score (label order of the dataset's files)
    signal: int
    #: signal efficiencies εS of the 1/εB columns, in the paper's column order
    efficiencies: tuple[float, ...]
    recipe: Recipe = field(default_factory=Recipe)
    #: "Table I" … or "" when the paper has no table for it
    table: str = ""
    #: the paper's order of the accuracy and AUC columns (Tables I–II: Acc first; III–V: AUC first)
    columns: tuple[str, str] = ("accuracy", "auc")
    #: what the paper's "±" means (its table caption), or "" when it does not say
    uncertainty: str = ""
    paper: tuple[PaperRow, ...] = ()
    #: names of the paper rows our two runs correspond to
    paper_scratch: str = "PET classifier"
    paper_omnilearn: str = "OmniLearn"
    notes: tuple[str, ...] = ()

    def paper_row(self, model: str) -> PaperRow | None:
        return next((r for r in self.paper if r.model == model), None)

    def paper_row_for(self, run: str) -> PaperRow | None:
        """The published row matching one of our runs (``"omnilearn"`` or ``"scratch"``)."""
        return self.paper_row(self.paper_omnilearn if run == "omnilearn" else self.paper_scratch)

    def run_dir(self, runs_dir: str | os.PathLike, run: str) -> Path:
        """``<runs_dir>/<dataset>_<run>``: where ``scripts/finetune.py`` writes by default."""
        return Path(runs_dir) / f"{self.dataset}_{run}"


# Fine-tune recipes: the paper gives only the shared optimiser settings (Sec. II E); the
# per-dataset flags are those of the commands in the authors' repository README
# (github.com/ViniciusMikuni/OmniLearn) and its train_atlas.py defaults.
TOP_RECIPE = Recipe(epoch=10, wd=0.1)
QG_RECIPE = Recipe(epoch=20, wd=0.1)
CMS_RECIPE = Recipe(epoch=40, wd=1e-4)
# ATLAS: 1 warm-up epoch, patience 5, weight decay 1e-4, body LR / 5.
ATLAS_RECIPE = Recipe(epoch=40, warm_epoch=1, stop_epoch=5, wd=1e-4, body_lr_factor=0.2)
# H1: `--lr_factor 2` (body LR / 2) and no --wd, i.e. the upstream default 1e-5.
H1_RECIPE = Recipe(epoch=10, wd=1e-5, body_lr_factor=0.5)

# Every row below is (model, Acc, AUC, 1/εB at each εS of the task) whatever the printed column
# order; a task's ``columns`` restores the paper's order in the Markdown table.

# Table I (top tagging): Acc, AUC, 1/εB at εS = 0.5 and 0.3.
_TABLE_I = (
    _row("ResNeXt-50 [37]", "0.936", "0.9837", "302 ± 5", "1147 ± 58"),
    _row("P-CNN [37]", "0.930", "0.9803", "201 ± 4", "759 ± 24"),
    _row("PFN [34]", None, "0.9819", "247 ± 3", "888 ± 17"),
    _row("ParticleNet [37]", "0.940", "0.9858", "397 ± 7", "1615 ± 93"),
    _row("JEDI-net [36]", "0.9300", "0.9807", None, "774.6"),
    _row("PCT [40]", "0.940", "0.9855", "392 ± 11", "1559 ± 98"),
    _row("LGN [78]", "0.929", "0.964", None, "435 ± 95"),
    _row("rPCN [38]", None, "0.9845", "364 ± 9", "1642 ± 93"),
    _row("LorentzNet [10]", "0.942", "0.9868", "498 ± 18", "2195 ± 173"),
    # As printed: in the εS = 0.5 column, with "-" at 0.3 (see the task's note).
    _row("PELICAN [79]", "0.9425", "0.9869", "2289 ± 204", None),
    _row("ParT [41]", "0.940", "0.9858", "413 ± 16", "1602 ± 81"),
    _row("ParT-f.t. [41]", "0.944", "0.9877", "691 ± 15", "2766 ± 130"),
    _row("PET Classifier", "0.938", "0.9848", "340 ± 12", "1318 ± 39"),
    _row("OmniLearn", "0.942", "0.9872", "568 ± 9", "2647 ± 192"),
)

# Table II (quark/gluon): Acc, AUC, 1/εB at εS = 0.5 and 0.3.
_TABLE_II = (
    _row("P-CNN [37]", "0.827", "0.9002", "34.7", "91.0"),
    # The text extraction shows "=" in the εS = 0.3 cell: read as "-".
    _row("PFN [34]", None, "0.9005", "34.7 ± 0.4", None),
    _row("ParticleNet [37]", "0.840", "0.9116", "39.8 ± 0.2", "98.6 ± 1.3"),
    _row("rPCN [38]", None, "0.9081", "38.6 ± 0.5", None),
    _row("ParT [41]", "0.840", "0.9121", "41.3 ± 0.3", "101.2 ± 1.1"),
    _row("ParT-f.t. [41]", "0.843", "0.9151", "42.4 ± 0.2", "107.9 ± 0.5"),
    _row("PET classifier", "0.837", "0.9110", "39.92 ± 0.1", "104.9 ± 1.5"),
    _row("OmniLearn", "0.844", "0.9159", "43.7 ± 0.3", "107.7 ± 1.5"),
)

# Table III (CMS Open Data q/g), printed as AUC, Acc, 1/εB at εS = 0.5 and 0.8.
_TABLE_III = (
    _row("PET classifier", "0.796", "0.875", "23.91 ± 0.07", "4.770 ± 0.001"),
    _row("OmniLearn", "0.797", "0.877", "24.36 ± 0.01", "4.836 ± 0.004"),
)

# Table IV (ATLAS top tagging), printed as AUC, Acc, 1/εB at εS = 0.5 and 0.8; no uncertainties printed.
_TABLE_IV = (
    _row("ResNet 50", "0.803", "0.885", "21.4", "5.13"),
    _row("EFN", "0.819", "0.901", "26.6", "6.12"),
    _row("hlDNN", "0.863", "0.938", "51.5", "10.5"),
    _row("DNN", "0.868", "0.942", "67.7", "12.0"),
    _row("PFN", "0.882", "0.954", "108.0", "15.9"),
    _row("ParticleNet", "0.894", "0.961", "153.7", "20.4"),
    _row("PET classifier (4M)", "0.890", "0.959", "146.5", "19.4"),
    _row("OmniLearn (4M)", "0.894", "0.961", "172.1", "20.8"),
    _row("PET classifier (40M)", "0.898", "0.964", "201.4", "23.6"),
    _row("OmniLearn (40M)", "0.899", "0.965", "207.30", "24.10"),
)

# Table V (H1 DIS, Djangoh vs Rapgap), printed as AUC, Acc, 1/εB at εS = 0.1 and 0.5.
_TABLE_V = (
    _row("PET classifier", "0.547", "0.5691", "17.73 ± 0.04", "2.467 ± 0.002"),
    _row("OmniLearn", "0.547", "0.5695", "17.78 ± 0.06", "2.470 ± 0.003"),
)

_ATLAS = dict(signal=1, efficiencies=(0.5, 0.8), recipe=ATLAS_RECIPE, table="Table IV", columns=("auc", "accuracy"),
              paper=_TABLE_IV)

#: dataset name → task; every dataset is registered in :mod:`omnilearn.data.registry`.
TASKS: dict[str, ClassificationTask] = {t.dataset: t for t in (
    ClassificationTask(
        "top", "Top tagging (Delphes, 550 < pT < 650 GeV)", signal=1, efficiencies=(0.5, 0.3), recipe=TOP_RECIPE,
        table="Table I", uncertainty="standard deviation of five trainings", paper=_TABLE_I,
        paper_scratch="PET Classifier",
        notes=("PELICAN's 2289 ± 204 is printed in the εS = 0.5 column of Table I; its size suggests the "
               "εS = 0.3 column.",)),
    ClassificationTask(
        "qg", "Quark vs gluon (Pythia 8, 500 < pT < 550 GeV)", signal=1, efficiencies=(0.5, 0.3), recipe=QG_RECIPE,
        table="Table II", uncertainty="standard deviation of nine trainings", paper=_TABLE_II),
    ClassificationTask(
        "cms", "Quark vs gluon, CMS 2011A Open Data simulation", signal=1, efficiencies=(0.5, 0.8),
        recipe=CMS_RECIPE, table="Table III", columns=("auc", "accuracy"), paper=_TABLE_III),
    ClassificationTask(
        "atlas", "ATLAS top tagging (full training set, 40M jets)", **_ATLAS,
        paper_scratch="PET classifier (40M)", paper_omnilearn="OmniLearn (40M)"),
    ClassificationTask(
        "atlas_small", "ATLAS top tagging (10 % of the training set, 4M jets)", **_ATLAS,
        paper_scratch="PET classifier (4M)", paper_omnilearn="OmniLearn (4M)"),
    ClassificationTask(
        "h1", "H1 DIS: Rapgap vs Djangoh leading jets", signal=1, efficiencies=(0.1, 0.5), recipe=H1_RECIPE,
        table="Table V", columns=("auc", "accuracy"), paper=_TABLE_V),
    # The embedded Pythia top-tagging sample: the top recipe, no published numbers.
    ClassificationTask(
        "toptag_pythia", "Top tagging (embedded Pythia sample)", signal=1, efficiencies=(0.5, 0.3),
        recipe=TOP_RECIPE,
        notes=("The paper has no table for this sample; compare the two runs with each other.",)),
)}


def get_task(dataset: str) -> ClassificationTask:
    """The task of ``dataset``; KeyError listing the known tasks otherwise."""
    try:
        return TASKS[dataset]
    except KeyError:
        raise KeyError(f"no classification task for {dataset!r}; known: {sorted(TASKS)}") from None


# -- evaluation --------------------------------------------------------------------------------


def thin_roc(roc: Mapping[str, list[float]], max_points: int = 1000) -> dict[str, list[float]]:
    """At most ``max_points`` ROC points, evenly spaced in signal efficiency.

    A test set of a million jets gives up to a million ROC points; a plot needs a thousand.
    """
    tpr = np.asarray(roc["tpr"])
    if len(tpr) <= max_points:
        return {"tpr": list(roc["tpr"]), "rejection": list(roc["rejection"])}
    idx = np.unique(np.searchsorted(tpr, np.linspace(tpr[0], tpr[-1], max_points)).clip(0, len(tpr) - 1))
    return {"tpr": tpr[idx].tolist(), "rejection": np.asarray(roc["rejection"])[idx].tolist()}


def read_run_args(run_dir: str | os.PathLike) -> dict | None:
    """The arguments ``finetune.py`` recorded for a run, or None."""
    path = Path(run_dir) / ARGS_FILE
    return json.loads(path.read_text()) if path.exists() else None


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
    """Metrics, bootstrap standard deviations and ROC points of one run on the test split.

    ``num_particles`` defaults to the value the run was trained with (its ``args.json``).
    Unweighted by default, as the published numbers are: the ATLAS per-jet weights are
    training weights; ``weighted=True`` uses the files' weights in every metric.
    """
    from ..data import registry
    from ..data.loader import JetLoader
    from ..training import checkpoint
    from .classification import evaluate_binary, predict, roc_points

    run_dir = Path(run_dir)
    ckpt = run_dir / checkpoint_name
    meta = checkpoint.read_meta(ckpt)
    args = read_run_args(run_dir) or {}
    if num_particles is None:
        num_particles = args.get("num_particles")
    test_files = registry.get(task.dataset).files(data_dir, "test")
    model = checkpoint.load(ckpt, mode="classifier")
    loader = JetLoader(test_files, batch_size, shuffle=False, normalization=checkpoint.load_normalization(ckpt),
                       num_classes=model.model_config.num_classes, num_particles=num_particles)
    expected = registry.get(task.dataset).classes[task.signal]
    if loader.classes[task.signal] != expected:
        # A file with another label order would silently score the background as signal.
        raise ValueError(f"{test_files}: class {task.signal} is {loader.classes[task.signal]!r}, "
                         f"expected the signal {expected!r}")
    probs, labels, weights = predict(model, loader.dataset())
    w = weights if weighted else None
    result = evaluate_binary(probs, labels, task.signal, task.efficiencies, w, bootstrap=bootstrap, seed=seed)
    history = run_dir / "history.csv"
    return {
        "task": task.dataset,
        "run": run_dir.name,
        "checkpoint": str(ckpt),
        "epoch": meta.get("epoch"),
        "test_files": [str(f) for f in test_files],
        "classes": list(loader.classes),
        "signal": task.signal,
        "signal_class": expected,
        "efficiencies": list(task.efficiencies),
        "weighted": weighted,
        "bootstrap": bootstrap,
        "num_particles": num_particles,
        "model": meta.get("model"),
        "train_args": args or None,
        "history": str(history) if history.exists() else None,
        **result,
        "roc": thin_roc(roc_points(probs, labels, task.signal, w)),
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
    from .classification import write_json

    written = {}
    for run in runs:
        run_dir = task.run_dir(runs_dir, run)
        if checkpoint.resolve(run_dir / options.get("checkpoint_name", "best")) is None:
            print(f"{task.dataset}/{run}: no checkpoint in {run_dir}, skipped")
            continue
        result = {**evaluate_run(task, run_dir, data_dir, **options), "run": run}
        written[run] = write_json(result, run_dir / RESULTS_FILE)
        rej = ", ".join(f"1/eB@{k}={v:.4g}" for k, v in result["rejection"].items())
        print(f"{task.dataset}/{run}: acc={result['accuracy']:.4f} AUC={result['auc']:.4f} {rej} "
              f"({result['n']} jets) -> {written[run]}")
    return written


def load_results(task: ClassificationTask, runs_dir: str | os.PathLike = "runs",
                 runs: Iterable[str] = tuple(RUNS)) -> dict[str, dict]:
    """{run: its results.json} for the runs of ``task`` that have been evaluated."""
    found = {}
    for run in runs:
        path = task.run_dir(runs_dir, run) / RESULTS_FILE
        if path.exists():
            found[run] = json.loads(path.read_text())
    return found
