"""Data efficiency and convergence on the Pythia top and qg tasks: fine-tuned vs scratch for
several training-set sizes × seeds, scored on independent test jets.

1. For each task, a training pool and an independent test sample are generated in the released
   format and converted by the real preprocessor (:func:`omnilearn.workflows.pythia_tasks.prepare`):
   the pool with ``gen_seed``, the test jets with ``test_seed`` (every split of that sample is
   test data; none of it is ever trained on).
2. For each size N and seed S, N jets of the pool's train split (N/2 per class, drawn with S)
   are written to ``<data_dir>/pool/<task>/<subset>.h5`` (``<subset>``: ``n<N>_seed<S>_pool<P>``);
   the pool's val split is the validation set of every run. The largest size sets the pool's P
   jets per class, so every call that adds runs to a plot folder must give the same largest
   size (checked).
3. Fine-tuned and scratch (:func:`omnilearn.workflows.pythia_tasks.train`, same epochs, no
   early stopping) into ``<runs_dir>/<task>/<subset>/<run>``; each best checkpoint scored on
   the test jets into ``<plot_dir>/<task>_n<N>_seed<S>_<run>.json`` (with its losses per epoch).
4. From those JSONs (:func:`load`, :func:`summarize`): AUC and 1/εB vs N (median, 16–84 % band
   over seeds) and the convergence: the epoch at which the fine-tuned model first reaches the
   best validation loss of the scratch run of the same N and S.

Every step is cached: a rerun reuses the data and resumes or skips finished runs and results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ResultsMismatchError
from ..evaluation.results import write_json
from ..evaluation.study import FINE_TUNED, SCRATCH, UPSTREAM, check_run_name, label, load, result_path, summarize
from . import pythia_tasks


@dataclass
class StudyConfig:
    tasks: tuple[str, ...] = pythia_tasks.TASK_NAMES
    #: training jets per run (both classes)
    sizes: tuple[int, ...] = (250, 1000, 4000, 16000)
    seeds: tuple[int, ...] = (1, 2, 3)
    #: generated test jets per class (every split of the test sample)
    test_jets_per_class: int = 5000
    gen_seed: int = 1
    test_seed: int = 1001
    workers: int = 2
    data_dir: str = "data/study"
    runs_dir: str = "runs/study"
    plot_dir: str = "plots/study"
    pretrained: str = "runs/quickstart/pretrain/best"
    #: the fine-tuned run's name (results ``..._<run_name>.json``): another name keeps the runs of
    #: another pretrained body beside the default's, as a further curve
    run_name: str = FINE_TUNED
    #: the authors' weights imported by ``omnilearn import-upstream`` (a third run), or None
    upstream: str | None = None
    epochs: int = 10
    warm_epoch: int = 1
    batch: int = 64
    lr: float = 3e-4
    wd: float = 0.1
    num_particles: int = 64
    bootstrap: int = 0

    def pool_jets_per_class(self) -> int:
        """Pool jets per class: the converters' ~60 % train split holds the largest size with a margin."""
        return int(np.ceil(max(self.sizes) / 2 / 0.55))


def write_subset(source: Path, dest: Path, size: int, seed: int) -> Path:
    """``size`` jets of the unified file ``source`` (half of each of its two classes, drawn with
    ``seed``) into ``dest``, attributes (classes, normalisation) copied; cached."""
    import h5py

    if dest.exists():
        return dest
    rng = np.random.default_rng(seed)
    with h5py.File(source, "r") as f:
        pid = f["pid"][:]
        picks = []
        for label in (0, 1):
            where = np.flatnonzero(pid == label)
            if len(where) < size // 2:
                raise ValueError(f"{source}: {len(where)} jets of class {label}, fewer than {size // 2}")
            picks.append(rng.choice(where, size // 2, replace=False))
        idx = np.sort(np.concatenate(picks))
        tmp = dest.with_suffix(".tmp")
        with h5py.File(tmp, "w") as out:
            out.attrs.update(dict(f.attrs))
            for key in f:
                out.create_dataset(key, data=f[key][idx])
    tmp.rename(dest)
    return dest


def check_pool(plot_dir: str | Path, task: str, pool_jets_per_class: int) -> None:
    """:class:`~omnilearn.errors.ResultsMismatchError` if ``plot_dir`` holds results of ``task``
    trained on subsets of another pool (the largest size sets the pool, so their validation
    losses and subsets would not match)."""
    for r in load(plot_dir):
        other = r.get("pool_jets_per_class", pool_jets_per_class)
        if r["task"] == task and other != pool_jets_per_class:
            raise ResultsMismatchError(
                f"{plot_dir}: its {task} results come from a pool of {other} jets per class, these sizes need "
                f"{pool_jets_per_class} (the largest size sets it): give the same largest size or another --plot_dir"
            )


def _task_cfg(cfg: StudyConfig, seed: int) -> pythia_tasks.PythiaTaskConfig:
    return pythia_tasks.PythiaTaskConfig(
        workers=cfg.workers,
        seed=seed,
        pretrained=cfg.pretrained,
        epochs=cfg.epochs,
        warm_epoch=cfg.warm_epoch,
        batch=cfg.batch,
        lr=cfg.lr,
        wd=cfg.wd,
        num_particles=cfg.num_particles,
        bootstrap=cfg.bootstrap,
    )


def run_task(name: str, cfg: StudyConfig) -> list[Path]:
    """Every (size, seed, run) of task ``name``; returns the result JSONs written or found."""
    from ..datasets import registry
    from ..evaluation import tasks
    from ..evaluation.classification import evaluate_checkpoint
    from ..plotting import read_history
    from ..training import checkpoint

    check_run_name(cfg.run_name)
    pool_jets = cfg.pool_jets_per_class()
    check_pool(cfg.plot_dir, name, pool_jets)
    for pretrained in filter(None, (cfg.pretrained, cfg.upstream)):  # fail before generating anything
        pythia_tasks._model_config(Path(pretrained))
    dataset, task = registry.get(name), tasks.pythia_sample_task(name)
    data = Path(cfg.data_dir)
    pool = pythia_tasks.prepare(name, data / "pool", pool_jets, cfg.workers, cfg.gen_seed)
    test = pythia_tasks.prepare(name, data / "test", cfg.test_jets_per_class, cfg.workers, cfg.test_seed)
    test_files = [f for split in ("train", "val", "test") for f in dataset.files(test.parent, split)]
    written = []
    for size in cfg.sizes:
        for seed in cfg.seeds:
            subset = f"n{size}_seed{seed}_pool{pool_jets}"  # a new pool: new subsets and runs
            train_file = write_subset(
                dataset.files(pool.parent, "train")[0],
                pool / f"{subset}.h5",
                size,
                seed,
            )
            for run in (cfg.run_name, SCRATCH) + ((UPSTREAM,) if cfg.upstream else ()):
                out = result_path(cfg.plot_dir, name, size, seed, run)
                if out.exists():
                    written.append(out)
                    continue
                print(f"\n=== {name}: {size} training jets, seed {seed}, {run}", flush=True)
                run_dir = Path(cfg.runs_dir) / name / subset / run
                start = time.perf_counter()
                task_cfg = _task_cfg(cfg, seed)
                if run == UPSTREAM:  # fine-tuned, from the authors' weights
                    task_cfg.pretrained = cfg.upstream
                pythia_tasks.train(
                    name,
                    "scratch" if run == SCRATCH else "omnilearn",
                    [train_file],
                    dataset.files(pool.parent, "val"),
                    run_dir,
                    task_cfg,
                )
                seconds = time.perf_counter() - start
                meta = checkpoint.read_meta(run_dir / "best")
                result = evaluate_checkpoint(
                    run_dir / "best",
                    test_files,
                    task.signal,
                    task.efficiencies,
                    bootstrap=cfg.bootstrap,
                    num_particles=cfg.num_particles,
                    seed=seed,
                    signal_class=dataset.classes[task.signal],
                )
                result = tasks.published(result, read_history(run_dir / "history.csv"))
                result.pop("roc")
                result |= {"task": name, "size": size, "seed": seed, "run": run, "epoch": meta.get("epoch")}
                result |= {"model": meta.get("model"), "train": meta.get("train"), "seconds": round(seconds, 1)}
                result["pretrained"] = None if run == SCRATCH else task_cfg.pretrained
                result["pool_jets_per_class"] = pool_jets
                written.append(write_json(result, out))
    return written


def run(cfg: StudyConfig | None = None) -> dict:
    """:func:`run_task` for each task, the figures redrawn after each (a study stopped in a later
    task keeps the figures of those done); returns :func:`summarize` of the results."""
    cfg = cfg or StudyConfig()
    summary: dict = {}
    for name in cfg.tasks:
        run_task(name, cfg)
        summary = plot(cfg.plot_dir)
    return summary


def plot(plot_dir: str | Path) -> dict:
    """``<task>_efficiency.png`` and ``<task>_convergence.png`` in ``plot_dir`` from its result
    JSONs; returns :func:`summarize` of them."""
    from .. import plotting

    results = load(plot_dir)
    summary = summarize(results)
    for task, s in summary.items():
        plotting.plot_data_efficiency(
            {label(run): curves for run, curves in s["efficiency"].items()},
            Path(plot_dir) / f"{task}_efficiency.png",
            title=f"{task}: data efficiency",
        )
        histories: dict[int, dict[str, list[list[float]]]] = {}
        for r in results:
            if r["task"] == task and "val_loss" in r.get("losses", {}):
                histories.setdefault(r["size"], {}).setdefault(label(r["run"]), []).append(r["losses"]["val_loss"])
        if histories:
            plotting.plot_loss_bands(
                {f"{task}, {size} training jets": h for size, h in sorted(histories.items())},
                Path(plot_dir) / f"{task}_convergence.png",
            )
    return summary
