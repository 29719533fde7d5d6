"""The performance table of docs/performance.md from the benchmarks' JSON rows.

    python benchmarks/table.py docs/performance.jsonl

Reads the rows that ``train_throughput.py``, ``inference_throughput.py`` and
``part_throughput.py`` append with ``--json`` and prints one Markdown table: per row the step,
the path (trim + XLA or full padding without XLA), the recomputation and accumulation
settings, the inputs, jets/s as mean / min / median and the peak RSS.
"""

from __future__ import annotations

import argparse
import json

_STEP = {
    ("train", "all"): "pretraining, mode `all`",
    ("train", "classifier"): "fine-tuning, mode `classifier`",
    ("inference", "classifier"): "classifier inference",
}


def describe(row: dict) -> tuple[str, ...]:
    """(model, step, path, `--recompute`, `--accum_steps`, inputs) of one JSON row."""
    if row.get("benchmark", "").startswith("part_"):
        kind = row["benchmark"].removeprefix("part_")
        step = "fine-tuning" if kind == "train" else "classifier inference"
        return ("ParT", step, f"its own padding trim, {row['particles']} slots", "–", "–", "generated")
    step = _STEP[(row["what"], row["mode"])]
    path = "trim + XLA" if row["trim"] and row["jit"] else ("full padding, no XLA" if not row["trim"] else "trim")
    if row.get("bucket"):
        path += " + bucketing"
    training = row["what"] == "train"
    recompute = f"`{row['recompute']}`" if training else "–"
    accum = str(row.get("accum", 1)) if training else "–"
    inputs = "Pythia jets" if row.get("inputs") != "generated" else "generated"
    return ("OmniLearn", step, path, recompute, accum, inputs)


def table(rows: list[dict]) -> str:
    lines = [
        "| model | step | path | `--recompute` | `--accum_steps` | inputs | batch "
        "| jets/s mean / min / median | peak RSS (GiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        speed = " / ".join(f"{row[f'jets_per_s_{k}']:.1f}" for k in ("mean", "min", "median"))
        cells = (*describe(row), str(row["batch"]), speed, f"{row['peak_rss_gib']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("jsonl", help="rows appended by the benchmarks' --json")
    args = p.parse_args(argv)
    with open(args.jsonl) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    print(table(rows))


if __name__ == "__main__":
    main()
