"""JetClass (Qu, Li, Qian, arXiv:2202.03772; Zenodo 6619768) from its ROOT release → unified.

Input: the release directory (e.g. ``JetClass/Pythia``) holding ``train_100M/``, ``val_5M/`` and
``test_20M/``, or any of these directories, or one file. Every ``*.root`` file below it belongs
to the split named by its nearest enclosing directory ``train_*``, ``val_*`` or ``test_*`` (the
release keeps one process per file: ``<Process>_<NNN>.root``, processes ZJetsToNuNu, HToBB,
HToCC, HToGG, HToWW4Q, HToWW2Q1L, ZToQQ, WToQQ, TTBar, TTBarLep). Each file holds one TTree
``tree``, one entry per jet; the branches read are (names as in the ParT repository's
``data/JetClass/JetClass_full.yaml`` and ``dataloader.py``, jet-universe/particle_transformer):

===================================================  ============  =====================================
branch                                               type          content
===================================================  ============  =====================================
``part_px``, ``part_py``, ``part_pz``,               var * float   constituents' four-momenta (GeV)
``part_energy``
``part_charge``                                      var * float   electric charge
``part_isChargedHadron``, ``part_isNeutralHadron``,  var * float   particle type, one flag set per
``part_isPhoton``, ``part_isElectron``,                            particle
``part_isMuon``
``jet_pt``, ``jet_eta``, ``jet_phi``,                float         the anti-kT R = 0.8 jet
``jet_energy``
``label_QCD``, ``label_Hbb``, ``label_Hcc``,         bool/float    one-hot class; exactly one set
``label_Hgg``, ``label_H4q``, ``label_Hqql``,
``label_Zqq``, ``label_Wqq``, ``label_Tbqq``,
``label_Tbl``
===================================================  ============  =====================================

The other branches (``part_deta``/``part_dphi``, the impact parameters ``part_d0val`` ...
``part_dzerr``, ``jet_nparticles``, ``jet_sdmass``, ``jet_tau1..4``, ``aux_genpart_*``) are not
read: the paper uses kinematics and PID only (its footnote 1 skips the vertex information).

Choices:

* the release's own train / val / test split is kept (its directories), not re-split; a split
  whose directory is absent is written as an empty file, but ``train_*`` must be there: its
  statistics normalise all three files;
* label = the set ``label_*`` branch, in the registry's class order (= the branches' order);
* particles: pT, eta, phi from (px, py, pz), the :data:`NUM_PARTICLES` = 150 hardest (the
  paper's "up to 150 particles per jet"; JetClass stores at most 128, so the rest is padding);
  the flags go to the unified PID columns through a representative PDG id per flag (e 11,
  mu 13, photon 22, charged hadron 211, neutral hadron 130) so that :func:`particle_features`
  remains the one place that defines them; a particle with not exactly one flag, or whose
  charge contradicts its flag, stops the conversion with a :class:`DataFormatError`;
* jet: the stored jet (``jet_pt``, ``jet_eta``, ``jet_phi``, ``jet_energy``), like the other
  datasets that ship a reconstructed jet; its unified ``mass`` is the invariant mass of that
  four-vector, not ``jet_sdmass`` (a groomed mass, a different observable); the multiplicity
  is the number of stored particles.

Streaming: the files are only opened for their header first; then :func:`write_splits` reads
entry blocks of all files in a random interleaving (the files are one process each, so the
output would otherwise be sorted by class) and shuffles them once more in its write buffer.
Each block re-opens its file (``tree.arrays`` over an entry range), so the ~1250 files of the
release never hold ~1250 file handles at once.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..data.features import from_pxpypze
from ..data.format import DataFormatError
from .convert import (
    SPLITS,
    PreprocessResult,
    Rows,
    Source,
    count,
    import_uproot,
    input_files,
    one_line,
    padded,
    require,
    require_finite,
    stored_jet,
    unified_rows,
    write_splits,
)

CLASSES: tuple[str, ...] = ("QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl")
LABEL_BRANCHES: tuple[str, ...] = tuple(f"label_{c}" for c in CLASSES)
TREE = "tree"
#: Particles kept per jet (the paper's JetClass pretraining: up to 150).
NUM_PARTICLES = 150
#: Input jets per read, and jets per split shuffled together before each write.
BLOCK = 2048
BUFFER = 16384
MOMENTUM_BRANCHES = ("part_px", "part_py", "part_pz", "part_energy", "part_charge")
#: PID flag branch → (PDG id handed to ``particle_features``, whether the particle is charged).
FLAGS: dict[str, tuple[int, bool]] = {
    "part_isElectron": (11, True),
    "part_isMuon": (13, True),
    "part_isPhoton": (22, False),
    "part_isChargedHadron": (211, True),
    "part_isNeutralHadron": (130, False),
}
JET_BRANCHES = ("jet_pt", "jet_eta", "jet_phi", "jet_energy")
BRANCHES = MOMENTUM_BRANCHES + tuple(FLAGS) + JET_BRANCHES + LABEL_BRANCHES
_PDG = np.array([pdg for pdg, _ in FLAGS.values()], dtype=np.float64)
_CHARGED = np.array([charged for _, charged in FLAGS.values()])
_SPLIT_DIR = re.compile(r"^(train|val|test)(_|$)")


def split_of(path: Path, root: Path) -> int:
    """Split index of ``path`` from its nearest enclosing ``train_*``/``val_*``/``test_*``
    directory, looking no higher than ``root`` (the input directory, or a file's directory)."""
    top = root if root.is_dir() else root.parent
    for name in reversed((top.name,) + path.relative_to(top).parent.parts):
        if m := _SPLIT_DIR.match(name):
            return SPLITS.index(m.group(1))
    raise DataFormatError(
        f"{path}: not inside a train_*, val_* or test_* directory (the release's train_100M/, val_5M/, test_20M/)"
    )


class JetClassFile:
    """One ``<Process>_<NNN>.root``: header checked on construction, entry blocks converted by :meth:`read`."""

    def __init__(self, path: Path, split: int, num_particles: int):
        uproot, _ = import_uproot("JetClass")
        self.path, self.split, self.num_particles = path, split, num_particles
        try:
            f = uproot.open(path)
        except Exception as err:
            raise DataFormatError(f"{path}: not a ROOT file ({one_line(err)})") from None
        with f:
            trees = [k.split(";")[0] for k, c in f.classnames().items() if c == "TTree"]
            require(TREE in trees, path, f"no TTree '{TREE}' (found {sorted(f.classnames())})")
            tree = f[TREE]
            missing = [b for b in BRANCHES if b not in tree.keys()]
            require(not missing, path, f"missing branch(es) {missing}")
            self.num_entries = tree.num_entries

    def read(self, start: int, stop: int, keep: np.ndarray) -> Rows:
        uproot, ak = import_uproot("JetClass")
        name = f"{self.path} entries {start}:{stop}"
        try:
            with uproot.open(self.path) as f:
                arr = f[TREE].arrays(BRANCHES, entry_start=start, entry_stop=stop, library="ak")[keep]
            counts = ak.to_numpy(ak.num(arr["part_px"], axis=1))
            for b in MOMENTUM_BRANCHES[1:] + tuple(FLAGS):
                if not np.array_equal(ak.to_numpy(ak.num(arr[b], axis=1)), counts):
                    raise DataFormatError(f"{name}: '{b}' and 'part_px' have different lengths")
            flat = {b: ak.to_numpy(arr[b]).astype(np.float64) for b in JET_BRANCHES + LABEL_BRANCHES}
        except DataFormatError:
            raise
        except Exception as err:  # e.g. a flat branch where a jagged one is expected, or vice versa
            raise DataFormatError(f"{name}: cannot be read in the JetClass layout ({one_line(err)})") from None
        width = max(int(counts.max(initial=0)), 1)
        px, py, pz, e, q = (padded(arr[b], width) for b in MOMENTUM_BRANCHES)
        flags = np.stack([padded(arr[b], width) for b in FLAGS], -1)
        rows = start + np.flatnonzero(keep)
        require_finite(self.path, rows=rows, unit="entry", px=px, py=py, pz=pz, energy=e, charge=q, **flat)

        def require_jets(ok: np.ndarray, problem: str) -> None:
            if not ok.all():
                first = rows[int(np.argmin(ok))]
                raise DataFormatError(f"{self.path}: entry {first}: {problem} ({count(int((~ok).sum()), 'entry')})")

        onehot = np.stack([flat[b] for b in LABEL_BRANCHES], -1)
        require_jets(
            np.all((onehot == 0) | (onehot == 1), axis=1) & (onehot.sum(1) == 1), "not exactly one label_* set"
        )
        real = np.arange(width)[None] < counts[:, None]
        one_flag = np.isin(flags, (0, 1)).all(-1) & (flags.sum(-1) == 1)
        require_jets((one_flag | ~real).all(axis=1), f"a particle without exactly one of {list(FLAGS)} set")
        charged = _CHARGED[flags.argmax(-1)]
        require_jets(
            (((q != 0) == charged) | ~real).all(axis=1),
            "a particle's charge contradicts its type flag (charged: e, mu, charged hadron)",
        )

        pt, eta, phi, energy = from_pxpypze(px, py, pz, e)
        jet = stored_jet(flat["jet_pt"], flat["jet_eta"], flat["jet_phi"], energy=flat["jet_energy"])
        data, jets = unified_rows(pt, eta, phi, energy, self.num_particles, jet=jet, charge=q, pdg_id=flags @ _PDG)
        return Rows(data, jets, onehot.argmax(1).astype(np.int32))


def preprocess(
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    max_jets: int | None = None,
    num_particles: int = NUM_PARTICLES,
    block: int = BLOCK,
    buffer: int = BUFFER,
    seed: int = 0,
    progress: bool = True,
) -> PreprocessResult:
    """Convert the JetClass ROOT files at ``input`` into ``outdir/{train,val,test}.h5``.

    ``max_jets`` caps the jets of each split, taken evenly from its files (the first entries of
    each). ``block`` and ``buffer`` are :func:`write_splits`'s read block and write buffer.
    """
    root = Path(input)
    paths = input_files(root, "*.root", "JetClass ROOT files")
    files = [JetClassFile(p, split_of(p, root), num_particles) for p in paths]
    present = {f.split for f in files}
    require(
        0 in present,
        root,
        "no train_* directory: the training split is needed (its statistics normalise all three files)",
    )
    sources = []
    for split in sorted(present):
        group = [f for f in files if f.split == split]
        per_file, extra = divmod(max_jets, len(group)) if max_jets is not None else (None, 0)
        for i, f in enumerate(group):
            n = f.num_entries if per_file is None else min(f.num_entries, per_file + (i < extra))
            sources.append(Source(str(f.path), np.full(n, split, dtype=np.int8), f.read, unit="entry"))
    return write_splits(
        sources,
        outdir,
        CLASSES,
        num_particles,
        seed=seed,
        progress=progress,
        desc="jetclass",
        block=block,
        buffer=buffer,
        allow_empty=[s for i, s in enumerate(SPLITS) if i not in present],
    )
