"""Results of a task as the paper shows them: a Markdown table, ROC curves and loss curves.

The table keeps the paper's layout (its rows, its column order) and adds our measured rows,
marked by a *Source* column, followed by a side-by-side comparison of the two models we train
with their published rows.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping

from .tasks import RUNS, ClassificationTask, load_results

_HEADERS = {"accuracy": "Acc", "auc": "AUC"}
#: Fewest decimals per metric (the paper's usual precision); more when the uncertainty needs them.
_MIN_DECIMALS = {"accuracy": 3, "auc": 4}


def _decimals(metric: str, value: float) -> int:
    if metric in _MIN_DECIMALS:
        return _MIN_DECIMALS[metric]
    # 1/εB: three significant digits, as the paper prints 568, 43.7, 4.84
    return max(0, 2 - math.floor(math.log10(abs(value)))) if value and math.isfinite(value) else 0


def format_measurement(metric: str, value: float | None, std: float | None = None) -> str:
    """``value ± std`` rounded to the leading digit of ``std`` (at least the paper's precision)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if math.isinf(value):
        return "∞"
    decimals = _decimals(metric, value)
    has_std = std is not None and math.isfinite(std) and std > 0
    if has_std:
        decimals = min(max(decimals, -math.floor(math.log10(std))), 6)
    text = f"{value:.{decimals}f}"
    return f"{text} ± {std:.{decimals}f}" if has_std else text


def _metric_columns(task: ClassificationTask) -> list[tuple[str, float | None, str]]:
    """(metric, efficiency, header) in the paper's column order."""
    cols: list[tuple[str, float | None, str]] = [(m, None, _HEADERS[m]) for m in task.columns]
    cols += [("rejection", e, f"1/εB (εS = {e:g})") for e in task.efficiencies]
    return cols


def _measured(result: Mapping, metric: str, efficiency: float | None) -> str:
    if metric == "rejection":
        key = f"{efficiency:g}"
        return format_measurement(metric, result["rejection"].get(key), result.get("rejection_std", {}).get(key))
    return format_measurement(metric, result.get(metric), result.get(f"{metric}_std"))


def _published(task: ClassificationTask, row, metric: str, efficiency: float | None) -> str:
    if row is None:
        return "-"
    return row.text(metric, efficiency, task.efficiencies) or "-"


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown_table(task: ClassificationTask, results: Mapping[str, Mapping]) -> str:
    """The paper's table for ``task`` with our rows (``results``: run → results.json) added."""
    cols = _metric_columns(task)
    source = f"paper, {task.table}" if task.table else "paper"
    ref = f" — {task.table} of arXiv:2404.16091" if task.table else ""
    out = [f"## {task.title}{ref}", ""]
    out.append(_line(["Model", "Source"] + [h for _, _, h in cols]))
    out.append(_line([":--", ":--"] + ["--:"] * len(cols)))
    for row in task.paper:
        out.append(_line([row.model, source] + [_published(task, row, m, e) for m, e, _ in cols]))
    for run, result in results.items():
        out.append(_line([f"**{RUNS.get(run, run)}**", "measured here"] + [_measured(result, m, e) for m, e, _ in cols]))

    if task.paper and results:
        out += ["", "### Measured here vs published", ""]
        header = ["Metric"]
        for run in results:
            header += [f"paper: {task.paper_omnilearn if run == 'omnilearn' else task.paper_scratch}",
                       f"here: {RUNS.get(run, run)}"]
        out.append(_line(header))
        out.append(_line([":--"] + ["--:"] * (len(header) - 1)))
        for metric, eff, head in cols:
            cells = [head]
            for run, result in results.items():
                cells += [_published(task, task.paper_row_for(run), metric, eff), _measured(result, metric, eff)]
            out.append(_line(cells))

    out += ["", *_footnotes(task, results)]
    return "\n".join(out) + "\n"


def _footnotes(task: ClassificationTask, results: Mapping[str, Mapping]) -> list[str]:
    notes = []
    if results:
        first = next(iter(results.values()))
        boot = first.get("bootstrap", 0)
        spread = f"standard deviation over {boot} bootstrap resamples of the test set" if boot else "not estimated"
        notes.append(f"- Measured here on {first.get('n', '?')} test jets (signal: {first.get('signal_class', '?')}); "
                     f"± is the {spread}.")
        for run, r in results.items():
            model = r.get("model") or {}
            args = r.get("train_args") or {}
            recipe = ", ".join(f"--{k} {args[k]}" for k in ("epoch", "batch", "lr", "wd") if k in args)
            notes.append(f"- {RUNS.get(run, run)}: best checkpoint after epoch {r.get('epoch', '?')}"
                         f"{f' ({recipe})' if recipe else ''}; projection_dim {model.get('projection_dim', '?')}, "
                         f"num_layers {model.get('num_layers', '?')} (paper: 128, 8).")
    if task.paper:
        notes.append(f"- Paper's ±: {task.uncertainty or 'as printed (the caption does not say)'}; "
                     "\"-\": not reported.")
    notes += [f"- {n}" for n in task.notes]
    return notes


def write_report(task: ClassificationTask, runs_dir: str | os.PathLike = "runs",
                 plot_dir: str | os.PathLike = "plots") -> list[Path] | None:
    """``<task>_roc.png``, ``<task>_losses.png`` and ``<task>_table.md`` in ``plot_dir``.

    Returns the files written, or None when no run of the task has a ``results.json``.
    """
    from ..plotting import plot_losses, plot_roc, read_history

    results = load_results(task, runs_dir)
    if not results:
        return None
    plot_dir = Path(plot_dir)
    written = [plot_roc({RUNS.get(r, r): res["roc"] for r, res in results.items()},
                        plot_dir / f"{task.dataset}_roc.png", title=task.title)]
    histories = {}
    for run, res in results.items():
        # the recorded path first; the run's own folder if the runs were moved since
        candidates = [Path(p) for p in (res.get("history"), task.run_dir(runs_dir, run) / "history.csv") if p]
        path = next((p for p in candidates if p.exists()), None)
        hist = read_history(path) if path is not None else {}
        if hist:
            histories[RUNS.get(run, run)] = hist
    if histories:
        written.append(plot_losses({f"{task.title}: validation loss": histories},
                                   plot_dir / f"{task.dataset}_losses.png", keys=("val_loss",)))
    table = plot_dir / f"{task.dataset}_table.md"
    table.write_text(markdown_table(task, results))
    written.append(table)
    return written
