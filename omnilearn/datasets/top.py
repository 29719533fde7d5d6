"""Top tagging reference dataset (Kasieczka et al., arXiv:1902.09914; Zenodo 2603256) → unified.

Input: a directory with the public ``train.h5``, ``val.h5`` and ``test.h5`` (1.2 M / 400 k /
400 k jets), each one split of the output. Each is a pandas HDF5 file with key ``table`` and
columns ``E_i, PX_i, PY_i, PZ_i`` for ``i = 0..199`` (the 200 hardest constituents, zero
padded), ``truthE, truthPX, truthPY, truthPZ`` (the top quark, unused), ``ttv`` (the split,
redundant with the file) and ``is_signal_new`` (1 top, 0 QCD). Delphes, no PID: the charge and
PID features stay 0.

The files are read with h5py, in row blocks, without pandas. Both pandas layouts are
supported: the release is usually described as a plain ``to_hdf`` (fixed) file, while public
code reading the released files uses the table layout (``HDFStore.select(columns=...)``, direct
reads of ``/table/table`` and its ``values_block_*``), so which one the files are is not certain:

* fixed (``df.to_hdf(path, key="table")``): group ``/table`` with ``block<k>_items`` (column
  names) and ``block<k>_values`` ``(rows, columns of block k)``, one block per dtype;
* table (``format="table"``): compound dataset ``/table/table`` with fields
  ``values_block_<k>`` ``(columns of block k,)``; the block's column names are the pickled
  list in its ``values_block_<k>_kind`` attribute (unpickled with builtins only).

Columns are found by name, so their order does not matter. Classes: ``qcd`` = 0, ``top`` = 1.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from pathlib import Path

import h5py
import numpy as np

from ..data.features import from_pxpypze
from ..data.format import DataFormatError
from .convert import (
    KINEMATICS,
    SPLITS,
    InputH5,
    PreprocessResult,
    Rows,
    Source,
    require,
    require_finite,
    require_labels,
    require_numeric,
    unified_rows,
    write_splits,
)

CLASSES: tuple[str, ...] = ("qcd", "top")
#: Constituents kept per jet (the OmniLearn top-tagging preprocessing keeps 150 of the 200).
NUM_PARTICLES = 150
KEY = "table"
LABEL = "is_signal_new"
_COMPONENTS = ("E", "PX", "PY", "PZ")
_COLUMN = re.compile(r"^(E|PX|PY|PZ)_(\d+)$")


class _NamesUnpickler(pickle.Unpickler):
    """Unpickles plain lists of strings only: an HDF5 attribute must not run code."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _decode(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


class PandasFrame(InputH5):
    """Row-block reader of a pandas HDF5 frame (fixed or table format) with h5py.

    ``columns`` lists every column name; :meth:`read_columns` returns rows ``start:stop`` of the
    requested columns as a float64 ``(rows, len(names))`` array.
    """

    def __init__(self, path: str | os.PathLike, key: str = KEY):
        self.key = key
        super().__init__(path)

    def _check(self) -> None:
        path, key = self.path, self.key
        require(
            key in self.file and isinstance(self.file[key], h5py.Group),
            path,
            f"no pandas frame under key '{key}' (keys: {sorted(self.file)})",
        )
        group = self.file[key]
        self.blocks: list[tuple[h5py.Dataset, str | None]] = []  # (dataset, compound field or None)
        names: list[list[str]] = []
        if "table" in group and isinstance(group["table"], h5py.Dataset):  # table format
            table = group["table"]
            fields = [f for f in (table.dtype.names or ()) if f.startswith("values_block_")]
            require(bool(fields), path, f"'{key}/table' has no values_block_* fields")
            for field in fields:
                kind = table.attrs.get(f"{field}_kind")
                require(kind is not None, path, f"'{key}/table' lacks the column names of {field}")
                try:
                    cols = _NamesUnpickler(io.BytesIO(bytes(kind))).load()
                except Exception as err:
                    raise DataFormatError(f"{path}: cannot read the column names of {field} ({err})") from None
                names.append([_decode(c) for c in cols])
                self.blocks.append((table, field))
            self.num_rows = table.shape[0]
        else:  # fixed format
            k = 0
            while f"block{k}_items" in group:
                values = group.get(f"block{k}_values")
                require(values is not None, path, f"'{key}/block{k}_values' missing")
                names.append([_decode(c) for c in group[f"block{k}_items"][()]])
                self.blocks.append((values, None))
                k += 1
            require(
                k > 0,
                path,
                f"'{key}' is neither a pandas fixed frame (block0_items) "
                f"nor a table frame ('{key}/table'): found {sorted(group)}",
            )
            self.num_rows = next((v.shape[0] for v, _ in self.blocks if v.dtype.kind != "O"), 0)
            for (values, _), cols in zip(self.blocks, names):
                if values.dtype.kind == "O":
                    continue  # strings, pickled: an error only if a column read is among them (require_numbers)
                require(
                    values.ndim == 2 and values.shape == (self.num_rows, len(cols)),
                    path,
                    f"'{values.name}' has shape {values.shape}, expected ({self.num_rows}, {len(cols)})",
                )
        self.columns = [c for cols in names for c in cols]
        self._where = {c: (b, i) for b, cols in enumerate(names) for i, c in enumerate(cols)}

    def require_numbers(self, names: list[str]) -> None:
        """The columns ``names`` hold numbers (a pandas column of strings is stored as text or as
        pickled objects, which would otherwise be parsed or fail deep inside numpy)."""
        for b in sorted({self._where[name][0] for name in names}):
            ds, field = self.blocks[b]
            dtype = ds.dtype if field is None else ds.dtype[field].base
            cols = [c for c, (block, _) in self._where.items() if block == b and c in names]
            require_numeric(self.path, f"{cols[0]}{' ...' if len(cols) > 1 else ''}", dtype)

    def read_columns(self, start: int, stop: int, names: list[str]) -> np.ndarray:
        out = np.empty((stop - start, len(names)), dtype=np.float64)
        wanted: dict[int, list[tuple[int, int]]] = {}
        for j, name in enumerate(names):
            b, i = self._where[name]
            wanted.setdefault(b, []).append((j, i))
        rows = None
        for b, pairs in wanted.items():
            ds, field = self.blocks[b]
            if field is None:
                block = ds[start:stop]
            else:
                rows = ds[start:stop] if rows is None else rows  # one read of the compound rows
                block = rows[field]
            out[:, [j for j, _ in pairs]] = block[:, [i for _, i in pairs]]
        return out


class TopFile(PandasFrame):
    """One split file: its frame, with the constituent and label columns checked; converts row blocks."""

    def __init__(self, path: Path, num_particles: int):
        self.num_particles = num_particles
        super().__init__(path)

    def _check(self) -> None:
        super()._check()
        path = self.path
        cols = set(self.columns)
        found = sorted({int(m.group(2)) for c in cols if (m := _COLUMN.match(c))})
        require(bool(found), path, "no constituent columns E_i, PX_i, PY_i, PZ_i")
        n = found[-1] + 1
        missing = [f"{c}_{i}" for i in range(n) for c in _COMPONENTS if f"{c}_{i}" not in cols]
        if LABEL not in cols:
            missing.append(LABEL)
        if missing:
            raise DataFormatError(f"{path}: missing column(s) {missing[:8]}{' ...' if len(missing) > 8 else ''}")
        self.names = [f"{c}_{i}" for c in _COMPONENTS for i in range(n)] + [LABEL]
        self.num_constituents = n
        self.require_numbers(self.names)

    def read(self, start: int, stop: int, keep: np.ndarray) -> Rows:
        raw = self.read_columns(start, stop, self.names)[keep]
        rows = start + np.flatnonzero(keep)
        n = self.num_constituents
        e, px, py, pz = (raw[:, k * n : (k + 1) * n] for k in range(4))
        label = raw[:, -1]
        require_finite(self.path, rows=rows, E_i=e, PX_i=px, PY_i=py, PZ_i=pz, **{LABEL: label})
        require_labels(self.path, label, (0, 1), LABEL, rows=rows)
        pt, eta, phi, energy = from_pxpypze(px, py, pz, e)
        data, jet = unified_rows(pt, eta, phi, energy, self.num_particles)
        return Rows(data, jet, label.astype(np.int32))


def preprocess(
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    max_jets: int | None = None,
    num_particles: int = NUM_PARTICLES,
    seed: int = 0,
    progress: bool = True,
) -> PreprocessResult:
    """Convert ``input/{train,val,test}.h5`` into ``outdir/{train,val,test}.h5``.

    ``max_jets`` caps the jets read from each of the three files.
    """
    input = Path(input)
    require(input.is_dir(), input, "expected the directory holding train.h5, val.h5 and test.h5")
    missing = [f"{s}.h5" for s in SPLITS if not (input / f"{s}.h5").is_file()]
    require(not missing, input, f"missing file(s) {missing}")
    files: list[TopFile] = []
    try:
        for split in SPLITS:
            files.append(TopFile(input / f"{split}.h5", num_particles))
        sources = []
        for s, f in enumerate(files):
            n = f.num_rows if max_jets is None else min(f.num_rows, max_jets)
            sources.append(Source(str(f.path), np.full(n, s, dtype=np.int8), f.read))
        return write_splits(
            sources,
            outdir,
            CLASSES,
            num_particles,
            seed=seed,
            progress=progress,
            desc="top",
            present_features=KINEMATICS,
        )
    finally:
        for f in files:
            f.close()
