"""Results of a task as the paper shows them: a Markdown table, ROC curves and loss curves.

The table keeps the paper's layout (its rows, its column order) and adds our measured rows,
marked by a *Source* column, followed by a side-by-side comparison of the two models we train
with their published rows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .evaluation.results import read_json, write_json
from .evaluation.tasks import (
    RUNS,
    ClassificationTask,
    get_task,
    load_published,
    load_results,
    published,
    published_path,
    pythia_sample_task,
)
from .paper import (
    STATEMENTS,
    TABLE_I,
    TABLE_II,
    TABLE_IX,
    TABLE_VI,
    TABLE_VII,
    TABLE_VIII,
    PaperTable,
    header,
)

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


def _measured(result: Mapping, column: str) -> str:
    """Our entry of one column key (``accuracy``, ``auc``, ``rejection@<εS>``) of a results.json."""
    metric, _, efficiency = column.partition("@")
    if efficiency:
        return format_measurement(
            metric, result["rejection"].get(efficiency), result.get("rejection_std", {}).get(efficiency)
        )
    return format_measurement(metric, result.get(metric), result.get(f"{metric}_std"))


def _published(task: ClassificationTask, row, column: str) -> str:
    return (task.paper.text(row, column) if task.paper is not None else None) or "-"


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown_table(task: ClassificationTask, results: Mapping[str, Mapping], heading: bool = True) -> str:
    """The paper's table for ``task`` with our rows (``results``: run → results.json) added;
    ``heading=False`` leaves out its ``##`` title (the results page writes its own)."""
    cols = task.columns
    table = task.paper
    ref = f" — {table.name} of arXiv:2404.16091" if table else ""
    out = [f"## {task.title}{ref}", ""] if heading else []
    out.append(_line(["Model", "Source"] + [header(c) for c in cols]))
    out.append(_line([":--", ":--"] + ["--:"] * len(cols)))
    for row in table.rows if table else ():
        out.append(_line([row.model, f"paper, {table.name}"] + [_published(task, row, c) for c in cols]))
    for run, result in results.items():
        out.append(_line([f"**{RUNS.get(run, run)}**", "measured here"] + [_measured(result, c) for c in cols]))

    if table and results:
        out += ["", "### Measured here vs published", ""]
        head = ["Metric"]
        for run in results:
            head += [
                f"paper: {task.paper_omnilearn if run == 'omnilearn' else task.paper_scratch}",
                f"here: {RUNS.get(run, run)}",
            ]
        out.append(_line(head))
        out.append(_line([":--"] + ["--:"] * (len(head) - 1)))
        for column in cols:
            cells = [header(column)]
            for run, result in results.items():
                cells += [_published(task, task.paper_row_for(run), column), _measured(result, column)]
            out.append(_line(cells))

    out += ["", *_footnotes(task, results)]
    return "\n".join(out) + "\n"


def _delta(value: float, std: float) -> str:
    """Δ × 10³ ± toys, to the leading digit of the ±."""
    decimals = min(max(-math.floor(math.log10(std)), 0), 4) if std > 0 and math.isfinite(std) else 3
    return f"{value:.{decimals}f} ± {std:.{decimals}f}"


def omnifold_tables(results: Mapping, labels: Mapping[str, str]) -> str:
    """Tables VIII (reweighting) and IX (unfolding) as the paper prints them (observables as
    rows), with our measured columns (``labels``: weights name → column title) beside the
    published ones. ``results``: the JSON of :func:`omnilearn.workflows.omnifold_run.evaluate`."""
    out = []
    for key, table, caption in (
        ("reweighting", TABLE_VIII, "reweighting: iteration 0, step 1, detector level"),
        ("unfolding", TABLE_IX, "unfolding: last iteration, step 2, particle level"),
    ):
        section = results[key]["observables"]
        ours = [name for name in labels if name in next(iter(section.values()))["delta"]]
        out.append(f"**{table.name}** ({caption}): triangular discriminator × 10³, ± from {results[key]['toys']} toys")
        out.append("")
        out.append(
            _line(["Observable", *(f"{labels[n]} (ours)" for n in ours), *(f"{r.model} (paper)" for r in table.rows)])
        )
        out.append(_line(["---"] * (1 + len(ours) + len(table.rows))))
        for column, head in zip(table.columns, table.headers):
            measured = [_delta(*section[column]["delta"][n]) for n in ours]
            out.append(_line([head, *measured, *(table.text(r, column) or "-" for r in table.rows)]))
        out.append("")
    return "\n".join(out)


def _footnotes(task: ClassificationTask, results: Mapping[str, Mapping]) -> list[str]:
    notes = []
    if results:
        first = next(iter(results.values()))
        boot = first.get("bootstrap", 0)
        spread = f"standard deviation over {boot} bootstrap resamples of the test set" if boot else "not estimated"
        notes.append(
            f"- Measured here on {first.get('n', '?')} test jets (signal: {first.get('signal_class', '?')}); "
            f"± is the {spread}."
        )
        for run, r in results.items():
            model = r.get("model") or {}
            args = r.get("train") or {}
            recipe = ", ".join(f"--{k} {args[k]}" for k in ("epoch", "batch", "lr", "wd") if k in args)
            notes.append(
                f"- {RUNS.get(run, run)}: best checkpoint after epoch {r.get('epoch', '?')}"
                f"{f' ({recipe})' if recipe else ''}; projection_dim {model.get('projection_dim', '?')}, "
                f"num_layers {model.get('num_layers', '?')} (paper: 128, 8)."
            )
    if task.paper:
        meaning = task.paper.uncertainty or "as printed (the caption does not say)"
        notes.append(f'- Paper\'s ±: {meaning}; "-": not reported.')
        notes += [f"- {n}" for n in task.paper.notes]
    notes += [f"- {n}" for n in task.notes]
    return notes


def write_report(
    task: ClassificationTask, runs_dir: str | os.PathLike = "runs", plot_dir: str | os.PathLike = "plots"
) -> list[Path] | None:
    """The results of ``task`` into ``plot_dir``: ``<dataset>_<run>.json`` (the published copy of
    each run's results.json, :func:`~omnilearn.evaluation.tasks.published`), then from those
    copies ``<dataset>_roc.png``, ``<dataset>_losses.png`` and ``<dataset>_table.md``.

    Returns the files written, or None when no run of the task has a ``results.json``.
    """
    from .plotting import read_history

    results = load_results(task, runs_dir)
    if not results:
        return None
    written, copies = [], {}
    for run, res in results.items():
        # the recorded history first; the run's own folder if the runs were moved since
        candidates = [Path(p) for p in (res.get("history"), task.run_dir(runs_dir, run) / "history.csv") if p]
        history = next((p for p in candidates if p.exists()), None)
        copies[run] = published(res, read_history(history) if history is not None else None)
        written.append(write_json(copies[run], published_path(plot_dir, task.dataset, run)))
    return written + write_figures(task, copies, plot_dir)


def write_figures(task: ClassificationTask, results: Mapping[str, Mapping], plot_dir: str | os.PathLike) -> list[Path]:
    """``<dataset>_roc.png``, ``<dataset>_losses.png`` (when the results carry losses) and
    ``<dataset>_table.md`` in ``plot_dir`` from published results ({run: copy})."""
    from .plotting import plot_losses, plot_roc

    plot_dir = Path(plot_dir)
    written = [
        plot_roc(
            {RUNS.get(r, r): res["roc"] for r, res in results.items()},
            plot_dir / f"{task.dataset}_roc.png",
            title=task.title,
        )
    ]
    histories = {RUNS.get(r, r): res["losses"] for r, res in results.items() if res.get("losses")}
    if histories:
        written.append(
            plot_losses(
                {f"{task.title}: validation loss": histories},
                plot_dir / f"{task.dataset}_losses.png",
                keys=("val_loss",),
            )
        )
    table = plot_dir / f"{task.dataset}_table.md"
    table.write_text(markdown_table(task, results))
    written.append(table)
    return written


# -- docs/results.md ---------------------------------------------------------------------------

#: where ``omnilearn report`` writes the results page, and the command that regenerates it
PAGE = "docs/results.md"
PAGE_COMMAND = "omnilearn report --page_only"


@dataclass(frozen=True)
class Section:
    """One part of the results page: a task whose results a command writes under ``plots/<folder>``.

    A classification section reads ``<folder>/<dataset>_<run>.json`` (what :func:`write_report`
    writes); a JetNet section (``task`` None) every ``<dataset>_generation.json`` below ``<folder>``
    (what ``omnilearn evaluate --dataset jetnet30`` writes), merged.
    """

    title: str
    folder: str
    dataset: str
    #: the commands that write the section's results
    command: str
    about: str = ""
    task: ClassificationTask | None = None
    #: the paper's table to show beside results that have no published row of their own
    reference: PaperTable | None = None
    #: figures of the folder shown besides the task's own
    figures: tuple[str, ...] = ()
    #: what the committed results were measured on, shown with them
    measured_on: str = ""
    #: ``unfolding``: an OmniFold section (``<folder>/<dataset>.json`` of ``omnilearn omnifold-evaluate``);
    #: ``lhco``: max SIC vs injected signal (``<folder>/lhco_sic.json`` of ``omnilearn lhco-evaluate``);
    #: ``study``: the study's result JSONs; ``pretrain``: ``<folder>/<dataset>.json`` of ``omnilearn pretrain-pythia``
    kind: str = ""
    #: the section needs a released dataset that is not on this machine
    unavailable: bool = False


def _missing(section: Section) -> str:
    """The line shown in place of results that are absent."""
    if section.unavailable:
        return f"**Not run here (dataset not available).** `{section.command}` makes it."
    return f"**Not run yet.** `{section.command}` writes it."


def _paper_task(dataset: str) -> Section:
    task = get_task(dataset)
    name = "atlas --small" if dataset == "atlas_small" else dataset
    return Section(
        f"{task.title} — {task.paper.name}",
        ".",
        task.dataset,
        f"omnilearn finetune --dataset {name} --fine_tune && omnilearn finetune --dataset {name} && "
        f"omnilearn evaluate --dataset {dataset} && omnilearn report --dataset {dataset}",
        "On the released dataset, converted by `omnilearn preprocess`, with the paper's model and recipe.",
        task=task,
        unavailable=True,
    )


def _jetnet(dataset: str, reference: PaperTable) -> Section:
    return Section(
        f"JetNet generation, {dataset} — {reference.name}",
        "jetnet",
        dataset,
        f"bash slurm/jetnet.sh {dataset} && FROM_SCRATCH=1 bash slurm/jetnet.sh {dataset}",
        "Generated jets against the test split: W1 distances (mean ± standard deviation over 5 bootstrap "
        "draws), coverage and MMD, FPND where jetnet's ParticleNet is installed.",
        reference=reference,
        measured_on="The results below are for Pythia t, W and Z jets written in JetNet's layout "
        "(`omnilearn generate-pythia --format jetnet`) and a small model; the paper's rows are for JetNet "
        "and the paper's model.",
    )


def page_sections() -> tuple[Section, ...]:
    """The sections of the results page, in order: the Pythia jobs that run on one machine, then
    the paper's tasks on the released datasets (Tables I–VII), OmniFold (VIII–IX) and LHCO (Figs. 10–11)."""
    pythia = (
        "Jets generated here by Pythia 8 and a small model: the paper's rows (released datasets, "
        "paper-size model) are shown for scale, not comparison."
    )
    return (
        Section(
            "Quick start: top tagging on Pythia jets",
            "quickstart",
            "toptag_pythia",
            "omnilearn quickstart",
            "A PET pretrained on 5 classes of Pythia jets, fine-tuned to tag top jets, against the same "
            "network trained from scratch. " + pythia,
            task=get_task("toptag_pythia"),
            reference=TABLE_I,
            figures=("pretrain_losses.png",),
        ),
        *(
            Section(
                f"Pythia tasks: {pythia_sample_task(name).title}",
                "pythia_tasks",
                name,
                f"omnilearn quickstart && omnilearn pythia-tasks --tasks {name}",
                "Jets written in the released format and converted by the real preprocessor; the quick "
                "start's pretrained body fine-tuned against the same network from scratch. " + pythia,
                task=pythia_sample_task(name),
                reference=table,
            )
            for name, table in (("top", TABLE_I), ("qg", TABLE_II))
        ),
        *(_paper_task(name) for name in ("top", "qg", "cms", "atlas", "atlas_small", "h1")),
        _jetnet("jetnet30", TABLE_VI),
        _jetnet("jetnet150", TABLE_VII),
        Section(
            "OmniFold unfolding on Pythia Z+jet events — Tables VIII–IX",
            "omnifold",
            "omnifold_pythia",
            "omnilearn generate-omnifold && omnilearn omnifold --fine_tune && omnilearn omnifold && "
            "omnilearn omnifold-evaluate --plot_dir plots/omnifold",
            'Two Pythia settings stand in for Herwig ("data") and Pythia ("MC"), with a simple detector '
            "smearing; the MC reweighted at detector level (iteration 0, step 1) and unfolded (5 iterations) "
            "by OmniLearn fine-tuned and by the same PET from scratch. See [the OmniFold page](omnifold.md). " + pythia,
            kind="unfolding",
        ),
        Section(
            "Larger Pythia pretraining: ten JetClass-like classes",
            "pretrain",
            "pretrain_pythia",
            "omnilearn pretrain-pythia",
            "OmniLearn pretrained in mode `all` on Pythia jets of the ten JetClass-like classes the generator "
            "makes: the body the study below also fine-tunes from the committed copy of its best checkpoint "
            "(`omnilearn study --pretrained plots/pretrain/checkpoint --run_name pythia10`). The defaults are "
            "sized for about an hour of generation and two hours of training on 2 cores; the table gives the "
            "run shown here.",
            kind="pretrain",
        ),
        Section(
            "Pythia study: data efficiency and convergence, fine-tuned vs scratch — Fig. 2",
            "study",
            "study",
            "omnilearn quickstart && omnilearn study --sizes 250 1000 4000 16000 --seeds 1 2 3",
            "The quick start's pretrained body (OmniLearn) and, where run, the ten-class body above "
            "(`--run_name pythia10`) fine-tuned against the same PET from scratch on the Pythia top "
            "and quark/gluon tasks (released formats, as above), for several training-set sizes and seeds, "
            "scored on test jets generated with another seed. Expected wall time and settings: "
            "[the study page](study.md). Jets generated here by Pythia 8 and a small model: the paper's "
            "statement below is for the released datasets and its model, shown for scale.",
            kind="study",
        ),
        Section(
            "Pythia study, larger training sets: the ten-class body vs scratch",
            "study_4000",
            "study",
            "omnilearn study --pretrained plots/pretrain/checkpoint --run_name pythia10 --sizes 250 1000 4000 "
            "--seeds 1 2 3 --plot_dir plots/study_4000",
            "The same study with training sets up to 4 000 jets: a larger pool (the largest size sets it), so "
            "every size is run anew, and only the ten-class body (the one sized for this) against scratch. "
            "Settings and wall time: [the study page](study.md).",
            kind="study",
        ),
        Section(
            "LHCO anomaly detection: max SIC vs injected signal — Figs. 10–11",
            "lhco",
            "lhco",
            "omnilearn lhco-generate && omnilearn lhco-train --fine_tune --pretrained runs/quickstart/pretrain/best "
            "&& omnilearn lhco-sample --run omnilearn && omnilearn lhco-classify --n_sig N --seed S [--ideal] "
            "&& omnilearn lhco-evaluate --plot_dir plots/lhco",
            "CWoLa classifiers of signal-region data (background + N injected signal events) against a "
            "background template: the other half of the true background (idealised) or the generator's "
            "events (generated). Events of the Pythia stand-in for the R&D set (`omnilearn lhco-generate`); "
            "see [the LHCO page](lhco.md) for the settings. The released R&D set "
            "(`omnilearn preprocess --dataset lhco`) is not available here, and the model is small: the "
            "paper's statements below are for scale, not comparison.",
            kind="lhco",
        ),
    )


def _reference(task: ClassificationTask, table: PaperTable) -> list[str]:
    """The paper's rows of the two models we train (``task.paper_omnilearn``, ``paper_scratch``)."""
    out = [_line(["Model", "Source"] + [header(c) for c in table.columns])]
    out.append(_line([":--", ":--"] + ["--:"] * len(table.columns)))
    for model in (task.paper_omnilearn, task.paper_scratch):
        row = table.row(model)
        out.append(_line([model, f"paper, {table.name}"] + [table.text(row, c) or "-" for c in table.columns]))
    return out


def _figures(paths: list[Path], plots: Path, page: Path) -> list[str]:
    """Each figure in a paragraph of its own, named by its path under ``plots``, linked from ``page``."""
    out = []
    for path in paths:
        out += ["", f"![{path.relative_to(plots).as_posix()}]({Path(os.path.relpath(path, page.parent)).as_posix()})"]
    return out


def _classification_section(section: Section, plots: Path, page: Path) -> list[str]:
    task, folder = section.task, plots / section.folder
    results = load_published(task, folder)
    out = [section.about, ""] if section.about else []
    if results:
        out.append(markdown_table(task, results, heading=False).rstrip("\n"))
    else:
        out.append(_missing(section))
    # the published rows: in the table above when the task has them, else for scale
    reference = section.reference if task.paper is None else (None if results else task.paper)
    if reference is not None:
        out += ["", f"Published ({reference.name}, {reference.caption}):", "", *_reference(task, reference)]
    names = [f"{task.dataset}_roc.png", f"{task.dataset}_losses.png", *section.figures]
    figures = [folder / n for n in names if (folder / n).exists()] if results else []
    return out + _figures(figures, plots, page)


def _unfolding_section(section: Section, plots: Path, page: Path) -> list[str]:
    folder = plots / section.folder
    path = folder / f"{section.dataset}.json"
    out = [section.about, ""]
    if path.exists():
        results = read_json(path)
        labels = {"mc": "MC", **{r: RUNS.get(r, r) for r in results["runs"]}}
        events = ", ".join(f"{n} {sample}" for sample, n in results["events"].items())
        out += [f"Evaluated on the `{results['split']}` split ({events} events).", ""]
        out.append(omnifold_tables(results, labels).rstrip("\n"))
        names = [f"{section.dataset}_{n}.png" for n in ("reweighted", "unfolded", "losses")]
        return out + _figures([folder / n for n in names if (folder / n).exists()], plots, page)
    out += [_missing(section), ""]
    for table in (TABLE_VIII, TABLE_IX):
        out += [f"Published ({table.name}, {table.caption}; Δ × 10³):", ""]
        out.append(_line(["Model", *table.headers]))
        out.append(_line([":--"] + ["--:"] * len(table.columns)))
        out += [_line([r.model, *(table.text(r, c) or "-" for c in table.columns)]) for r in table.rows]
        out.append("")
    return out[:-1]


def _lhco_section(section: Section, plots: Path, page: Path) -> list[str]:
    """Max SIC per template, classifier start and injected signal (median and 16–84 % over seeds)."""
    folder = plots / section.folder
    path = folder / f"{section.dataset}_sic.json"
    out = [section.about, ""]
    if path.exists():
        summary = read_json(path)
        out.append(
            _line(
                [
                    "Template",
                    "Classifier",
                    "Injected signal",
                    "S/√B in the data",
                    "Max SIC: median [16 %, 84 %]",
                    "Seeds",
                ]
            )
        )
        out.append(_line([":--", ":--"] + ["--:"] * 4))
        for variant, rows in summary.items():
            template, _, start = variant.partition("_")
            for i, n_sig in enumerate(rows["n_sig"]):
                sic = f"{rows['median'][i]:.2f} [{rows['low'][i]:.2f}, {rows['high'][i]:.2f}]"
                cells = [template, RUNS.get(start, start), str(n_sig), f"{rows['initial_significance'][i]:.1f}"]
                out.append(_line(cells + [sic, str(rows["n"][i])]))
    else:
        out.append(_missing(section))
    out += ["", "The paper (Figs. 10–11, shown only as figures; no table to set beside ours):", ""]
    out += [f"> Fig. 10, idealised template: {STATEMENTS['lhco_ideal']}", ""]
    out += [f"> Fig. 11, generated template: {STATEMENTS['lhco_generated']}"]
    figures = sorted(folder.glob(f"{section.dataset}_*.png")) if path.exists() else []
    return out + _figures(figures, plots, page)


def _band_cell(metric: str, median: float | None, low: float | None, high: float | None) -> str:
    """``median [low, high]``; epochs as counted (``2`` or ``2.5``), ratios to 2 decimals."""
    if median is None:
        return "-"
    if metric.endswith("epochs"):
        text = [f"{v:g}" for v in (median, low, high)]
    elif metric == "speedup":
        text = [f"{v:.2f}" for v in (median, low, high)]
    else:
        text = [format_measurement(metric, v) for v in (median, low, high)]
    return f"{text[0]} [{text[1]}, {text[2]}]"


def _study_section(section: Section, plots: Path, page: Path) -> list[str]:
    """Data efficiency (AUC, 1/εB vs training size) and convergence, per task, over seeds."""
    from .evaluation.study import label, load, summarize

    folder = plots / section.folder
    summary = summarize(load(folder))
    out = [section.about, ""]
    if not summary:
        out.append(_missing(section))
    for task, s in summary.items():
        title = pythia_sample_task(task).title
        out += [f"### {title}: data efficiency", ""]
        metrics = list(next(iter(s["efficiency"].values())))
        out.append(
            _line(
                [
                    "Training jets",
                    "Model",
                    *(f"{header(m)}: median [16 %, 84 %]" for m in metrics),
                    "Seeds",
                    "Training time (s, median)",
                ]
            )
        )
        out.append(_line(["--:", ":--"] + ["--:"] * (len(metrics) + 2)))
        rows = [(size, run, i) for run, c in s["efficiency"].items() for i, size in enumerate(c[metrics[0]]["size"])]
        for size, run, i in sorted(rows):
            c = s["efficiency"][run]
            cells = [
                _band_cell(m.partition("@")[0], c[m]["median"][i], c[m]["low"][i], c[m]["high"][i]) for m in metrics
            ]
            time = s["seconds"].get((size, run))
            count = str(c[metrics[0]]["n"][i])
            out.append(_line([str(size), label(run), *cells, count, "-" if time is None else f"{time:.0f}"]))
        if s["convergence"]:
            out += ["", f"### {title}: convergence", ""]
            out.append(
                _line(
                    [
                        "Training jets",
                        "Fine-tuned model",
                        "Scratch: epoch of its best val. loss",
                        "Fine-tuned: epochs to reach it",
                        "Ratio (scratch / fine-tuned)",
                        "Seeds where reached",
                    ]
                )
            )
            out.append(_line(["--:", ":--"] + ["--:"] * 4))
            rows = [(size, run, i) for run, c in s["convergence"].items() for i, size in enumerate(c["size"])]
            for size, run, i in sorted(rows):
                conv = s["convergence"][run]
                cells = [
                    _band_cell(key, conv[key]["median"][i], conv[key]["low"][i], conv[key]["high"][i])
                    for key in ("scratch_epochs", "fine_tuned_epochs", "speedup")
                ]
                out.append(_line([str(size), label(run), *cells, f"{conv['reached'][i]} of {conv['pairs'][i]}"]))
        out += [
            "",
            "Median and [16 %, 84 %] quantiles over seeds (each seed: its own training subset and "
            "initialisation); scored on independent test jets. Training time: the run's fit on 2 CPU cores, "
            "validation after each epoch included, scoring the test jets not.",
        ]
        names = [f"{task}_efficiency.png", f"{task}_convergence.png"]
        out += _figures([folder / n for n in names if (folder / n).exists()], plots, page)
        out.append("")
    out += [
        "" if summary else "",
        f"The paper (Sec. III, Fig. 2, top tagging and quark/gluon): {STATEMENTS['convergence']}",
    ]
    return out


def _pretrain_section(section: Section, plots: Path, page: Path) -> list[str]:
    """The larger Pythia pretraining: its data, model, epochs, losses and wall times."""
    from .pythia.generator import ClassStats

    path = plots / section.folder / f"{section.dataset}.json"
    out = [section.about, ""]
    if not path.is_file():
        return out + [_missing(section)]
    r = read_json(path)
    m = r["model"]
    val = r["history"].get("val_loss", [])
    hours = lambda seconds: "–" if seconds is None else f"{seconds / 3600:.2f} h"  # noqa: E731
    out.append(_line(["Classes", "Training jets", "Model", "Epochs", "Best val. loss", "Generation", "Training"]))
    out.append(_line([":--", "--:", ":--", "--:", "--:", "--:", "--:"]))
    model = f"width {m['projection_dim']}, {m['num_layers']} blocks, {r['settings']['num_particles']} particles"
    best = "–" if r.get("best_val_loss") is None else f"{r['best_val_loss']:.4f}"
    out.append(
        _line(
            [
                str(len(r["classes"])),
                str(r["jets"]["train"]),
                model,
                str(r["epochs_done"]),
                best,
                hours(r.get("generation_seconds")),
                hours(r.get("training_seconds")),
            ]
        )
    )
    if val:
        out += ["", "Validation loss per epoch: " + ", ".join(f"{v:.4f}" for v in val) + "."]
    stats = {name: ClassStats(**s) for name, s in (r.get("generation_stats") or {}).items()}
    if stats:
        rates = ", ".join(f"{name} {s.jets_per_cpu_second:.1f}" for name, s in stats.items() if s.cpu_seconds > 0)
        cpu = sum(s.cpu_seconds for s in stats.values()) / 3600
        out += ["", f"Generation, jets per CPU second: {rates}; {cpu:.2f} CPU hours in all."]
    name = r.get("published_checkpoint")
    if name and (plots / section.folder / name).is_dir():
        link = Path(os.path.relpath(plots / section.folder / name, page.parent)).as_posix()
        out += ["", f"Its best checkpoint (weights, input normalisation, settings): [{link}]({link})."]
    return out + _figures(
        [p for p in [plots / section.folder / "pretrain_pythia_losses.png"] if p.exists()], plots, page
    )


def _generation_section(section: Section, plots: Path, page: Path) -> list[str]:
    from .evaluation.generation import markdown_table as generation_table

    folder = plots / section.folder
    files = sorted(folder.rglob(f"{section.dataset}_generation.json"), key=lambda p: (len(p.parts), p))
    results: dict[str, dict] = {}
    for path in files:
        results.update(read_json(path))
    num_particles = 30 if section.reference is TABLE_VI else 150
    out = [section.about, ""]
    if results:
        out += [section.measured_on, ""] if section.measured_on else []
    else:
        out += [_missing(section), "", f"Published ({section.reference.name}):", ""]
    out.append(generation_table(results, num_particles).rstrip("\n"))
    figures = sorted(folder.rglob(f"{section.dataset}_*.png"), key=lambda p: (len(p.parts), p)) if results else []
    return out + _figures(figures, plots, page)


#: the writer of each special section kind; the others are classification or generation tables
_WRITERS = {
    "unfolding": _unfolding_section,
    "lhco": _lhco_section,
    "study": _study_section,
    "pretrain": _pretrain_section,
}


def results_page(plots: str | os.PathLike = "plots", page: str | os.PathLike = PAGE) -> str:
    """The results page, generated only from the result files under ``plots`` (the committed
    ``plots/`` folder) beside the paper's rows, with relative links from ``page`` to the figures."""
    plots, page = Path(plots), Path(page)
    out = [
        f"*Generated by `{PAGE_COMMAND}` from the result files under `plots/`: do not edit it by hand.*",
        "",
        "# Results",
        "",
        "Measured results beside the published ones of arXiv:2404.16091 (Tables I–IX, "
        "`omnilearn/paper.py`, and the LHCO Figs. 10–11). Each section names the command that writes "
        f"its results; after a run, `{PAGE_COMMAND}` regenerates this page.",
    ]
    for section in page_sections():
        out += ["", f"## {section.title}", ""]
        default = _classification_section if section.task is not None else _generation_section
        out += _WRITERS.get(section.kind, default)(section, plots, page)
    return "\n".join(out) + "\n"


def write_page(page: str | os.PathLike = PAGE, plots: str | os.PathLike = "plots") -> Path:
    """Write :func:`results_page` to ``page``."""
    page = Path(page)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(results_page(plots, page))
    return page
