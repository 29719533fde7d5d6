"""Top tagging and quark/gluon on Pythia jets made here, through the released formats:
generate → real converter → fine-tune vs scratch → evaluate → plot.

1. Generate the jets of the task (:mod:`omnilearn.pythia.formats`: top vs QCD in the
   top-tagging release's pandas HDF5, quark vs gluon in the Komiske et al. npz files) into
   ``<data_dir>/<task>_public`` (cached).
2. Convert them with the task's real preprocessor (``registry.get(task).preprocess``, what
   ``scripts/preprocess.py`` runs) into ``<data_dir>/<task>/{train,val,test}.h5``.
3. Fine-tune the pretrained OmniLearn (default: the quick start's ``runs/quickstart/pretrain/best``;
   its size sets the model) into ``<runs_dir>/<task>_omnilearn`` and train the same PET from
   scratch into ``<runs_dir>/<task>_scratch``, for the same number of epochs.
4. Evaluate both on the test split (``omnilearn.evaluation.tasks``: accuracy, AUC, 1/εB at the
   paper's εS) into each run's ``results.json``, what ``scripts/evaluate_classifiers.py`` does.
5. Report them as ``omnilearn report`` does (:func:`omnilearn.report.write_report`):
   ``<plot_dir>/<task>_{omnilearn,scratch}.json`` (the results to commit), ``<task>_roc.png``,
   ``<task>_losses.png`` and ``<task>_table.md``, without the paper's rows: its numbers are for
   the released datasets (Delphes for top, ~100× more jets), not these
   (:func:`omnilearn.evaluation.tasks.pythia_sample_task`).

A rerun reuses the generated files and resumes or skips finished trainings (their ``last``
checkpoint); change ``runs_dir`` for a fresh comparison.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .. import report as tables
from ..config import ModelConfig, TrainConfig
from ..datasets import registry
from ..evaluation import tasks
from ..pythia import formats as public_formats
from ..training import checkpoint
from ..training.run import run_training

TASK_NAMES: tuple[str, ...] = ("top", "qg")


@dataclass
class PythiaTaskConfig:
    jets_per_class: int = 3000
    workers: int = 2
    seed: int = 1
    data_dir: str = "data/pythia_tasks"
    runs_dir: str = "runs/pythia_tasks"
    plot_dir: str = "plots/pythia_tasks"
    pretrained: str = "runs/quickstart/pretrain/best"
    #: Epochs of both trainings (no early stopping, so both see the same number of updates).
    epochs: int = 6
    warm_epoch: int = 1
    batch: int = 64
    lr: float = 3e-4
    wd: float = 0.1
    #: Particles per jet given to the model (the quick start pretrains on 64).
    num_particles: int = 64
    bootstrap: int = 100
    compare_scratch: bool = True


def _say(msg: str) -> None:
    print(f"\n=== {msg}", flush=True)


def _model_config(pretrained: Path) -> ModelConfig:
    try:
        meta = checkpoint.read_meta(pretrained)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no pretrained checkpoint at {pretrained}: run `omnilearn quickstart` first "
            "(or give the path of another pretraining's best/)"
        ) from None
    return ModelConfig.from_dict(meta["model"]).replace(feature_drop=0.0)


def prepare(
    name: str, data_dir: Path, jets_per_class: int, workers: int, seed: int, timings: dict | None = None
) -> Path:
    """Generate ``name``'s jets in the released format into ``<data_dir>/<name>_public`` (cached)
    and convert them with the real preprocessor into ``<data_dir>/<name>``; returns the latter."""
    dataset = registry.get(name)
    config = public_formats.config_for(name, jets_per_class=jets_per_class, workers=workers, seed=seed)
    made = public_formats.generate_public(name, Path(data_dir) / f"{name}_public", config)
    print(f"{made.outdir}: {'found' if made.cached else 'written'} ({', '.join(f.name for f in made.files)})")
    _say(f"{name} converting with the real {name} preprocessor")
    start = time.perf_counter()
    converted = dataset.preprocess(made.outdir, dataset.directory(data_dir), seed=seed)
    if timings is not None:
        timings["preprocess"] = time.perf_counter() - start
    print(", ".join(f"{split} {n}" for split, n in converted.counts.items()), "jets")
    return dataset.directory(data_dir)


def train(
    name: str, run: str, train_files: list[Path], val_files: list[Path], outdir: Path, cfg: PythiaTaskConfig
) -> None:
    """Fine-tune ``cfg.pretrained`` (``run`` "omnilearn") or train the same PET from scratch into
    ``outdir`` for ``cfg.epochs`` epochs (no early stopping); resumes or skips a finished run."""
    pretrained = Path(cfg.pretrained)
    train_cfg = TrainConfig(
        mode="classifier",
        batch=cfg.batch,
        epoch=cfg.epochs,
        warm_epoch=cfg.warm_epoch,
        stop_epoch=cfg.epochs,
        lr=cfg.lr,
        wd=cfg.wd,
        fine_tune=run == "omnilearn",
    )
    Path(outdir).mkdir(parents=True, exist_ok=True)
    run_training(
        train_files,
        val_files,
        outdir,
        _model_config(pretrained),
        train_cfg,
        pretrained=pretrained if run == "omnilearn" else None,
        dataset=name,
        num_particles=cfg.num_particles,
        seed=cfg.seed,
    )


def run_task(name: str, cfg: PythiaTaskConfig | None = None) -> dict[str, dict]:
    """Every step for one task; returns {run: metrics} ("omnilearn", "scratch")."""
    cfg = cfg or PythiaTaskConfig()
    if name not in TASK_NAMES:
        raise ValueError(f"unknown task {name!r}; choose from {list(TASK_NAMES)}")
    _model_config(Path(cfg.pretrained))  # fail before generating anything
    data, runs = Path(cfg.data_dir), Path(cfg.runs_dir)
    task = tasks.pythia_sample_task(name)
    dataset = registry.get(name)
    timings: dict[str, float] = {}

    _say(f"{name} 1/5 generating Pythia jets in the released format (cached after the first run)")
    start = time.perf_counter()
    prepare(name, data, cfg.jets_per_class, cfg.workers, cfg.seed, timings)
    timings["generate"] = time.perf_counter() - start - timings["preprocess"]

    names = ["omnilearn"] + (["scratch"] if cfg.compare_scratch else [])
    for run in names:
        _say(f"{name} 3/5 {'fine-tuning the pretrained body' if run == 'omnilearn' else 'training from scratch'}")
        start = time.perf_counter()
        train(name, run, dataset.files(data, "train"), dataset.files(data, "val"), task.run_dir(runs, run), cfg)
        timings[f"train_{run}"] = time.perf_counter() - start

    _say(f"{name} 4/5 evaluating on the test split")
    tasks.evaluate_task(task, data, runs, names, bootstrap=cfg.bootstrap, seed=cfg.seed)
    results = tasks.load_results(task, runs, names)

    _say(f"{name} 5/5 plotting")
    written = tables.write_report(task, runs, cfg.plot_dir)
    print("wrote " + ", ".join(map(str, written or [])))
    print("wall time (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return results


def run(names: tuple[str, ...] = TASK_NAMES, cfg: PythiaTaskConfig | None = None) -> dict[str, dict[str, dict]]:
    """:func:`run_task` for each task; {task: {run: metrics}}."""
    return {name: run_task(name, cfg) for name in names}
