"""The fault matrix (issue 13): every converter fed every kind of bad input through the real
command line, and real ``omnilearn`` processes killed with SIGKILL at several moments.

Each case must end in one of two ways: exit code 1 with one error line naming the bad file
(and nothing left in the output folder: no partial files, no staging folders), or success with
output that is right (finite, labels in range, no empty jet; the same as a clean run where the
input means the same). A silent wrong result or lost data fails the test. The matrix is printed
(``pytest -s`` shows it).
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
from test_jetnet import make_class, write_class
from test_lhco import make_events, write_release
from test_preprocess import (
    _h1_event,
    _jc_jet,
    _write_atlas,
    _write_h1,
    _write_jetclass,
    _write_mod,
    _write_qg,
    _write_top,
)

from omnilearn.cli import main

SPLITS = ("train", "val", "test")
#: The damaged jet (row, entry) of the value cases; the error must name it.
BAD = 3
CASES = ("nan", "label", "empty", "strings", "truncated", "zero_byte", "wrong_type", "missing_key")
#: Cases a format cannot express (ROOT branches are typed; the label is a directory or file name).
NOT_APPLICABLE = {
    ("h1", "strings"): "ROOT branches are typed",
    ("jetclass", "strings"): "ROOT branches are typed",
}


# ----------------------------------------------------------------------------------------------
# Inputs: a clean release written by the fixture writers of test_preprocess / test_jetnet, with
# one file damaged. Each returns (the --input path, the damaged file).


def _pandas_damage(path: Path, case: str) -> None:
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' PerformanceWarning for object columns
        df = pd.read_hdf(path, "table")
        fmt = "fixed"
        if case == "nan":
            df.loc[BAD, "PX_1"] = np.nan
        elif case == "label":
            df.loc[BAD, "is_signal_new"] = 2
        elif case == "empty":
            df.loc[BAD, [c for c in df.columns if re.match(r"^(E|PX|PY|PZ)_\d+$", c)]] = 0.0
        elif case == "strings":
            df["PX_0"] = df["PX_0"].astype(str)
            fmt = "table"  # a string column of a table frame (a fixed frame pickles it)
        elif case == "missing_key":
            df = df.drop(columns=["is_signal_new"])
        df.to_hdf(path, key="table", mode="w", format=fmt)


def top_input(src: Path, case: str | None, rng) -> tuple[Path, Path]:
    for split, n in zip(SPLITS, (30, 10, 12)):
        _write_top(src / f"{split}.h5", n, rng, "fixed")
    bad = src / "val.h5"
    if case in ("nan", "label", "empty", "strings", "missing_key"):
        _pandas_damage(bad, case)
    return src, bad


def qg_input(src: Path, case: str | None, rng) -> tuple[Path, Path]:
    _write_qg(src / "QG_jets.npz", 30, 12, rng)
    bad = src / "QG_jets_1.npz"
    _write_qg(bad, 20, 12, rng)
    if case in ("nan", "label", "empty", "strings", "missing_key"):
        with np.load(bad) as f:
            x, y = f["X"], f["y"]
        arrays = {"X": x, "y": y}
        if case == "nan":
            x[BAD, 0, 1] = np.nan
        elif case == "label":
            y[BAD] = 2
        elif case == "empty":
            x[BAD] = 0
        elif case == "strings":
            arrays["X"] = x.astype(str)
        else:
            arrays.pop("y")
        np.savez_compressed(bad, **arrays)
    return src, bad


def cms_input(src: Path, case: str | None, rng) -> tuple[Path, Path]:
    pids = [1, 21, 2, 21, 3, 21, 1, 21, 2, 21, 3, 21]
    _write_mod(src / "SIM_0.h5", pids, rng)
    bad = src / "SIM_1.h5"
    _write_mod(bad, pids, rng)
    if case in ("nan", "label", "empty", "strings", "missing_key"):
        with h5py.File(bad, "a") as f:
            if case == "nan":
                f["pfcs"][int(f["pfcs_index"][BAD]), 0] = np.nan
            elif case == "label":
                f["jets_i"][BAD, -1] = 999  # an unknown hard parton: dropped by the selection
            elif case == "empty":
                index = f["pfcs_index"][()]
                f["pfcs"][index[BAD] : index[BAD + 1], 0] = 0.5  # every PFC below the 1 GeV cut
            elif case == "strings":
                values, cols = f["jets_f"][()], f["jets_f"].attrs["cols"]
                del f["jets_f"]
                f.create_dataset("jets_f", data=values.astype("S24")).attrs["cols"] = cols
            else:
                del f["pfcs_index"]
    return src, bad


def atlas_input(src: Path, case: str | None, rng) -> tuple[Path, Path]:
    _write_atlas(src / "train.h5", 40, rng)
    bad = src / "test.h5"
    _write_atlas(bad, 12, rng)
    if case in ("nan", "label", "empty", "strings", "missing_key"):
        with h5py.File(bad, "a") as f:
            if case == "nan":
                f["fjet_clus_eta"][BAD, 0] = np.nan
            elif case == "label":
                f["labels"][BAD] = 2
            elif case == "empty":
                for k in ("fjet_clus_pt", "fjet_clus_eta", "fjet_clus_phi", "fjet_clus_E"):
                    f[k][BAD] = 0
            elif case == "strings":
                values = f["fjet_pt"][()]
                del f["fjet_pt"]
                f["fjet_pt"] = values.astype("S24")
            else:
                del f["labels"]
    return src, bad


def h1_input(src: Path, case: str | None, rng) -> tuple[Path, Path]:
    _write_h1(src / "Django_1.root", "Django", [_h1_event(rng, True) for _ in range(24)])
    events = [_h1_event(rng, True) for _ in range(24)]
    bad = src / "Rapgap_1.root"
    ev, jets, parts = events[BAD]
    lead = int(np.argmax(jets["jet_pt"]))
    if case == "nan":  # a NaN particle of the leading jet
        parts[np.flatnonzero(parts[:, 4] == lead)[0], 0] = np.nan
    elif case == "label":  # a file of an unknown generator
        _write_h1(src / "Herwig_1.root", "Herwig", [_h1_event(rng, True) for _ in range(5)])
        _write_h1(bad, "Rapgap", events)
        return src, src / "Herwig_1.root"
    elif case == "empty":  # the leading jet keeps no particle: the event is dropped (documented)
        events[BAD] = (ev, jets, parts[parts[:, 4] != lead])
    _write_h1(bad, "Rapgap", events, drop="idx" if case == "missing_key" else None)
    return src, bad


def jetclass_input(src: Path, case: str | None, rng) -> tuple[Path, Path]:
    _write_jetclass(src / "train_100M" / "ZJetsToNuNu_000.root", 0, [_jc_jet(rng) for _ in range(20)])
    _write_jetclass(src / "val_5M" / "ZJetsToNuNu_120.root", 0, [_jc_jet(rng) for _ in range(6)])
    bad = src / "train_100M" / "HToBB_000.root"
    jets = [_jc_jet(rng) for _ in range(20)]
    if case == "nan":
        jets[BAD] = jets[BAD].copy()
        jets[BAD][0, 0] = np.nan
    elif case == "empty":
        jets[BAD] = jets[BAD][:0]
    missing = "part_isMuon" if case == "missing_key" else None
    _write_jetclass(bad, 1, jets, two_labels=(BAD,) if case == "label" else (), drop=missing)
    return src, bad


def jetnet_input(src: Path, case: str | None, rng) -> tuple[Path, Path]:
    for t, n in (("g", 30), ("z", 30)):
        write_class(src / f"{t}.hdf5", *make_class(n, 30, rng))
    bad = src / "t.hdf5"
    particles, jets = make_class(30, 30, rng)
    typed = None
    if case == "nan":
        particles[BAD, 0, 0] = np.nan
    elif case == "label":  # the typed layout, with one jet of another type
        typed = 2
    elif case == "empty":
        particles[BAD] = 0
    write_class(bad, particles, jets, typed=typed)
    if case in ("label", "strings", "missing_key"):
        with h5py.File(bad, "a") as f:
            if case == "label":
                f["jet_features"][BAD, 0] = 7
            elif case == "strings":
                values = f["particle_features"][()]
                del f["particle_features"]
                f["particle_features"] = values.astype("S24")
            else:
                del f["jet_features"]
    return src, bad


def lhco_input(src: Path, case: str | None, rng) -> tuple[Path, Path]:
    rows, _ = make_events(30, seed=int(rng.integers(1 << 30)))
    bad = src / "events_anomalydetection_v2.h5"
    if case == "nan":
        rows[BAD, 1] = np.nan
    elif case == "label":
        rows[BAD, -1] = 2
    elif case == "empty":
        rows[BAD, :-1] = 0.0
    # a text column of a table frame (a fixed frame pickles it); the frame under another key
    write_release(
        bad,
        rows,
        key="events" if case == "missing_key" else "df",
        text_column=0 if case == "strings" else None,
    )
    return bad, bad


CONVERTERS: dict[str, Callable] = {
    "top": top_input,
    "qg": qg_input,
    "cms": cms_input,
    "atlas": atlas_input,
    "h1": h1_input,
    "jetclass": jetclass_input,
    "jetnet30": jetnet_input,
    "lhco": lhco_input,
}


def _damage_bytes(path: Path, case: str) -> None:
    if case == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "zero_byte":
        path.write_bytes(b"")
    elif case == "wrong_type":
        path.write_text("pt,eta,phi\n1.0,0.1,0.2\n")  # a CSV under the expected name


# ----------------------------------------------------------------------------------------------
# Running a case and judging the outcome


def _run(argv: list[str]) -> tuple[int | str, str]:
    """Exit code (or the name of the exception that escaped) and stderr of ``omnilearn ARGV``."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code: int | str = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException as exc:  # noqa: BLE001 - a traceback is an outcome of the matrix
            code = type(exc).__name__
            err.write(f"{type(exc).__name__}: {exc}")
    return code, err.getvalue().strip()


def _leftovers(outdir: Path) -> list[str]:
    return sorted(str(p.relative_to(outdir)) for p in outdir.rglob("*")) if outdir.exists() else []


def _read(outdir: Path) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for split in SPLITS:
        with h5py.File(outdir / f"{split}.h5", "r") as f:
            out[split] = {k: f[k][()] for k in f}
            out[split]["num_classes"] = len(f.attrs["classes"])
    return out


def _wrong(out: dict) -> str:
    """Why converted files are wrong, or "" when they are right."""
    for split, d in out.items():
        if not all(np.isfinite(d[k]).all() for k in ("data", "jet") + (("weight",) if "weight" in d else ())):
            return f"{split}: non-finite values"
        label = d["pid"] if "pid" in d else d["label"]  # the event format's name
        if len(label) and (label.min() < 0 or label.max() >= d["num_classes"]):
            return f"{split}: label outside 0..{d['num_classes'] - 1}"
        if len(label) and not np.any(d["data"] != 0, axis=-1).any(axis=-1).all():
            return f"{split}: an empty jet"
    return ""


def _same(a: dict, b: dict) -> bool:
    return all(np.array_equal(a[s][k], b[s][k]) for s in SPLITS for k in a[s])


def judge(dataset: str, case: str, code, err: str, bad: Path, outdir: Path, clean: dict) -> str:
    """The outcome of one case: "error: …" or "ok: …" when right, "FAIL: …" otherwise."""
    left = _leftovers(outdir)
    if code == 1:
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].startswith("omnilearn preprocess: error: "):
            return f"FAIL: not one error line: {err[-300:]!r}"
        if bad.name not in lines[0]:
            return f"FAIL: the error does not name {bad.name}: {lines[0]}"
        if (dataset, case) in ROW_CASES and not re.search(rf"\b(jet|row|entry|event) {BAD}\b", lines[0]):
            return f"FAIL: the error does not name the first bad row ({BAD}): {lines[0]}"
        if left:
            return f"FAIL: output left behind: {left}"
        return "error: " + lines[0].removeprefix("omnilearn preprocess: error: ").replace(str(bad.parent), "…")[:110]
    if code == 0:
        if any(".staging" in name for name in left):
            return f"FAIL: staging folder left: {left}"
        out = _read(outdir)
        why = _wrong(out)
        if why:
            return f"FAIL: silent wrong result: {why}"
        if case not in ACCEPTED.get(dataset, {}):
            return "FAIL: bad input accepted silently"
        if ACCEPTED[dataset][case] == "same" and not _same(out, clean):
            return "FAIL: differs from the clean run"
        return f"ok: {ACCEPTED[dataset][case]}"
    return f"FAIL: exit {code}: {err[-300:]}"


#: Cases whose error must name the first bad row (the label of h1 is its file's generator).
ROW_CASES = {(d, c) for d in CONVERTERS for c in ("nan", "label", "empty")} - {("h1", "label")}

#: Bad inputs a converter may accept, and how its output must then compare with the clean run's.
ACCEPTED: dict[str, dict[str, str]] = {
    "cms": {"label": "jet dropped by the flavour selection"},
    "h1": {"empty": "event dropped by the selection"},
    "lhco": {"empty": "event dropped by the selection"},
}


@pytest.mark.slow
def test_converter_fault_matrix(tmp_path):
    """Every converter × every kind of bad input, through ``omnilearn preprocess``."""
    pytest.importorskip("pandas")
    pytest.importorskip("tables")
    pytest.importorskip("uproot")
    rows, failures = [], []
    for dataset, make in CONVERTERS.items():
        base = tmp_path / dataset
        src = base / "clean"
        src.mkdir(parents=True)
        clean_input, _ = make(src, None, np.random.default_rng(0))
        assert (
            _run(
                [
                    "preprocess",
                    "--dataset",
                    dataset,
                    "--input",
                    str(clean_input),
                    "--outdir",
                    str(base / "out_clean"),
                    "--quiet",
                ]
            )[0]
            == 0
        )
        clean = _read(base / "out_clean")
        for case in CASES:
            if (dataset, case) in NOT_APPLICABLE:
                rows.append((dataset, case, "n/a: " + NOT_APPLICABLE[dataset, case]))
                continue
            src = base / case
            src.mkdir()
            input_path, bad = make(src, case, np.random.default_rng(0))
            _damage_bytes(bad, case)
            outdir = base / f"out_{case}"
            code, err = _run(
                ["preprocess", "--dataset", dataset, "--input", str(input_path), "--outdir", str(outdir), "--quiet"]
            )
            outcome = judge(dataset, case, code, err, bad, outdir, clean)
            rows.append((dataset, case, outcome))
            if outcome.startswith("FAIL"):
                failures.append((dataset, case, outcome))
    print("\nconverter fault matrix:")
    for dataset, case, outcome in rows:
        print(f"  {dataset:9s} {case:11s} {outcome}")
    assert not failures, "\n".join(f"{d} {c}: {o}" for d, c, o in failures)
