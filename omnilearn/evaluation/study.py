"""The data-efficiency and convergence study's results (:mod:`omnilearn.workflows.study`): one
JSON per (task, training size, seed, run) → medians and 16–84 % bands over seeds, and the epochs
the fine-tuned model needs to reach the best validation loss of the scratch run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..paper import rejection_key
from .anomaly import band

#: the fine-tuned run's default name, and the reference every fine-tuned run is compared with
FINE_TUNED, SCRATCH = "omnilearn", "scratch"
RUN_NAMES: tuple[str, ...] = (FINE_TUNED, SCRATCH)
#: the optional third run: fine-tuned from the authors' released weights (``omnilearn import-upstream``)
UPSTREAM = "upstream"
#: names of the runs on figures and tables (other fine-tuned runs: :func:`label`)
LABELS: dict[str, str] = {
    FINE_TUNED: "OmniLearn (fine-tuned)",
    SCRATCH: "PET classifier (scratch)",
    UPSTREAM: "OmniLearn, authors' weights (fine-tuned)",
}
#: a run's name: lower-case letters and digits (it ends the result file's name)
RUN_NAME = re.compile(r"^[a-z][a-z0-9]*$")
#: ``<task>_n<size>_seed<seed>_<run>.json``
RESULT_NAME = re.compile(r"^(?P<task>[a-z]+)_n(?P<size>\d+)_seed(?P<seed>\d+)_(?P<run>[a-z][a-z0-9]*)\.json$")


def check_run_name(name: str) -> str:
    """``name`` if it can name a fine-tuned run (:data:`RUN_NAME`, not scratch's or the authors'
    weights'), else ValueError."""
    if not RUN_NAME.match(name) or name in (SCRATCH, UPSTREAM):
        raise ValueError(f"run name {name!r}: lower-case letters and digits, not {SCRATCH!r} or {UPSTREAM!r}")
    return name


def label(run: str) -> str:
    """The run's name on figures and tables; a fine-tuned run named by ``omnilearn study
    --run_name`` is labelled by its body's name."""
    return LABELS.get(run, f"OmniLearn (fine-tuned, {run} body)")


def run_order(runs: Iterable[str]) -> list[str]:
    """Fine-tuned runs first (the default one, others by name, the authors' weights), scratch last."""
    rank = {FINE_TUNED: 0, UPSTREAM: 2, SCRATCH: 3}
    return sorted(set(runs), key=lambda run: (rank.get(run, 1), run))


def result_path(plot_dir: str | Path, task: str, size: int, seed: int, run: str) -> Path:
    """``<plot_dir>/<task>_n<size>_seed<seed>_<run>.json``."""
    return Path(plot_dir) / f"{task}_n{size}_seed{seed}_{run}.json"


def load(plot_dir: str | Path) -> list[dict]:
    """Every result JSON of :func:`omnilearn.workflows.study.run_task` in ``plot_dir``, sorted by
    task, size, seed, run."""
    found = []
    for path in sorted(Path(plot_dir).glob("*.json")):
        if RESULT_NAME.match(path.name):
            found.append(json.loads(path.read_text()))
    return sorted(found, key=lambda r: (r["task"], r["size"], r["seed"], r["run"]))


def epochs_to_reach(val_loss: Sequence[float], target: float) -> int | None:
    """First epoch (1-based) whose validation loss is ≤ ``target``; None if none is."""
    for epoch, loss in enumerate(val_loss, start=1):
        if loss <= target:
            return epoch
    return None


def convergence(fine_tuned: Sequence[float], scratch: Sequence[float]) -> dict:
    """Scratch's best validation loss and its epoch, the epoch at which the fine-tuned model first
    reaches it, and their ratio (None when the fine-tuned model never reaches it)."""
    best = int(np.argmin(scratch))
    reach = epochs_to_reach(fine_tuned, scratch[best])
    return {
        "scratch_best": float(scratch[best]),
        "scratch_epochs": best + 1,
        "fine_tuned_epochs": reach,
        "speedup": (best + 1) / reach if reach else None,
    }


def _band(values: Sequence[float]) -> dict:
    """:func:`~omnilearn.evaluation.anomaly.band`, where a quantile next to an infinite value (1/εB
    with no background left) is infinite, not the NaN of inf − inf."""
    with np.errstate(invalid="ignore"):
        b = band(values)
    if any(np.isinf(values)):
        b = {k: (np.inf if isinstance(v, float) and np.isnan(v) else v) for k, v in b.items()}
    return b


def _metrics(task: str) -> tuple[str, ...]:
    from . import tasks

    return ("auc", rejection_key(tasks.pythia_sample_task(task).efficiencies[0]))


def _value(result: Mapping, metric: str) -> float:
    name, _, key = metric.partition("@")
    return float(result["rejection"][key] if key else result[name])


def _add_convergence(conv: dict, run: str, size: int, by_seed: Mapping[int, Mapping[str, Mapping]]) -> None:
    """Append to ``conv[run]`` the bands over seeds of :func:`convergence` of ``run`` against the
    scratch run of the same seed (seeds lacking either, or their losses, are left out)."""
    pairs = [
        convergence(runs[run]["losses"]["val_loss"], runs[SCRATCH]["losses"]["val_loss"])
        for runs in by_seed.values()
        if {run, SCRATCH} <= set(runs) and all("val_loss" in runs[n].get("losses", {}) for n in (run, SCRATCH))
    ]
    if not pairs:
        return
    c = conv.setdefault(run, {"size": [], "reached": [], "pairs": []})
    c["size"].append(size)
    c["pairs"].append(len(pairs))
    c["reached"].append(sum(p["fine_tuned_epochs"] is not None for p in pairs))
    for key in ("scratch_epochs", "fine_tuned_epochs", "speedup"):
        values = [p[key] for p in pairs if p[key] is not None]
        b = band(values) if values else {"median": None, "low": None, "high": None, "n": 0}
        for k, v in b.items():
            c.setdefault(key, {}).setdefault(k, []).append(v)


def summarize(results: Iterable[Mapping]) -> dict:
    """{task: {"efficiency": {run: {metric: {"size": [...], "median", "low", "high", "n"}}},
    "convergence": {run: {"size": [...], "fine_tuned_epochs": band, "scratch_epochs": band,
    "speedup": band, "reached": [k], "pairs": [n]}}, "seconds": {(size, run): median training
    time of a run, validation included}}} over seeds, ``convergence`` for each
    fine-tuned run against scratch; bands are :func:`~omnilearn.evaluation.anomaly.band` (median,
    16 % and 84 % quantiles) of the seeds at each size."""
    by_task: dict[str, dict[int, dict[int, dict[str, Mapping]]]] = {}
    for r in results:
        by_task.setdefault(r["task"], {}).setdefault(r["size"], {}).setdefault(r["seed"], {})[r["run"]] = r
    out = {}
    for task, by_size in sorted(by_task.items()):
        eff: dict[str, dict[str, dict[str, list]]] = {}
        conv: dict[str, dict[str, list]] = {}
        seconds: dict[tuple[int, str], float] = {}
        for size, by_seed in sorted(by_size.items()):
            runs_here = run_order(run for runs in by_seed.values() for run in runs)
            for run in runs_here:
                seeds = [runs[run] for runs in by_seed.values() if run in runs]
                for metric in _metrics(task):
                    row = eff.setdefault(run, {}).setdefault(metric, {"size": []})
                    row["size"].append(size)
                    for k, v in _band([_value(r, metric) for r in seeds]).items():
                        row.setdefault(k, []).append(v)
                times = [r["seconds"] for r in seeds if r.get("seconds") is not None]
                if times:
                    seconds[(size, run)] = float(np.median(times))
            for run in (r for r in runs_here if r != SCRATCH):
                _add_convergence(conv, run, size, by_seed)
        out[task] = {
            "efficiency": {run: eff[run] for run in run_order(eff)},
            "convergence": {run: conv[run] for run in run_order(conv)},
            "seconds": seconds,
        }
    return out
