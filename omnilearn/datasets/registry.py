"""Registry of datasets: name -> where its unified files live and which classes they hold.

Preprocessing modules add their dataset with the decorator::

    @register("toptag")
    class TopTagging(Dataset):
        classes = ("qcd", "top")

and everything downstream looks it up by name: ``get("toptag").files(data_dir, "train")``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from ..data.format import SPLITS

if TYPE_CHECKING:
    from .convert import PreprocessResult


class Dataset:
    """One dataset in the unified format: ``<data_dir>/<name>/<split>.h5``.

    Subclasses set :attr:`classes` (names in label order, so ``pid == i`` means
    ``classes[i]``); :func:`register` sets :attr:`name`.
    """

    name: ClassVar[str] = ""
    classes: ClassVar[tuple[str, ...]] = ()
    #: Module whose ``preprocess(input, outdir, **options)`` converts the public format ("" = none).
    converter: ClassVar[str] = ""
    #: Options always passed to it (e.g. the fraction of ATLAS that ``atlas_small`` keeps).
    converter_options: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    #: What its files hold: ``"jets"`` (the unified per-jet format, what ``train``/``finetune``
    #: read), ``"paired"`` (OmniFold's particle/detector-level pairs) or ``"events"`` (LHCO's two jets).
    layout: ClassVar[str] = "jets"
    #: The command that trains on it when its layout is not ``"jets"``.
    trained_by: ClassVar[str] = ""

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def directory(self, data_dir: str | os.PathLike) -> Path:
        return Path(data_dir) / self.name

    def files(self, data_dir: str | os.PathLike, split: str) -> list[Path]:
        """Unified files of ``split`` (one of :data:`SPLITS`); a list so large datasets may shard."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return [self.directory(data_dir) / f"{split}.h5"]

    def preprocess(self, input: str | os.PathLike, outdir: str | os.PathLike, **options: Any) -> PreprocessResult:
        """Convert the public files at ``input`` into ``outdir/{train,val,test}.h5``; returns the
        converter's :class:`~omnilearn.datasets.convert.PreprocessResult`."""
        if not self.converter:
            raise NotImplementedError(f"dataset {self.name!r} has no preprocessor")
        from .convert import remove_stale_staging

        if Path(outdir).is_dir():
            remove_stale_staging(outdir)  # what a killed run left, even if this run stops on a bad input
        module = importlib.import_module(self.converter)  # lazily: h5py/uproot only when used
        return module.preprocess(input, outdir, **{**self.converter_options, **options})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, classes={list(self.classes)})"


#: name -> dataset instance; filled by :func:`register`.
DATASETS: dict[str, Dataset] = {}


def register(name: str) -> Callable[[type[Dataset]], type[Dataset]]:
    """Class decorator adding an instance of the dataset class to :data:`DATASETS` under ``name``."""

    def wrap(cls: type[Dataset]) -> type[Dataset]:
        if name in DATASETS and type(DATASETS[name]) is not cls:
            raise ValueError(f"dataset {name!r} is already registered by {type(DATASETS[name]).__name__}")
        cls.name = name
        DATASETS[name] = cls()
        return cls

    return wrap


def get(name: str) -> Dataset:
    """The registered dataset ``name``; KeyError listing the known names otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; registered: {sorted(DATASETS)}") from None


def names() -> list[str]:
    return sorted(DATASETS)


@register("pythia")
class Pythia(Dataset):
    """The embedded Pythia pretraining sample (light-quark/gluon QCD, top, W, Z, H->bb)."""

    classes = ("qcd", "top", "wqq", "zqq", "hbb")


@register("jetclass")
class JetClass(Dataset):
    """JetClass (arXiv:2202.03772): 10 classes, 100 M training jets (ROOT release, see omnilearn.datasets.jetclass)."""

    classes = ("QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl")
    converter = "omnilearn.datasets.jetclass"


@register("toptag_pythia")
class TopTagPythia(Dataset):
    """Top tagging on the embedded Pythia sample."""

    classes = ("qcd", "top")


# Real public datasets of the paper; ``converter`` does the format conversion, whose module
# docstring describes the expected input.


@register("top")
class TopTagging(Dataset):
    """Top tagging reference dataset (Kasieczka et al., arXiv:1902.09914): Delphes, 2 M jets."""

    classes = ("qcd", "top")
    converter = "omnilearn.datasets.top"


@register("qg")
class QuarkGluon(Dataset):
    """Pythia quark/gluon jets (Komiske et al., arXiv:1810.05165): 2 M jets with PID."""

    classes = ("gluon", "quark")
    converter = "omnilearn.datasets.qg"


@register("cms")
class CMSQuarkGluon(Dataset):
    """CMS 2011A Open Data simulation (MOD HDF5): uds-quark vs gluon jets, balanced."""

    classes = ("gluon", "quark")
    converter = "omnilearn.datasets.cms"


@register("atlas")
class AtlasTopTagging(Dataset):
    """ATLAS top tagging open data (Geant4 simulation), per-jet training weights."""

    classes = ("qcd", "top")
    converter = "omnilearn.datasets.atlas"


@register("atlas_small")
class AtlasTopTaggingSmall(AtlasTopTagging):
    """The first 10 % of the ATLAS training set (the paper's 4 M-jet run); full test set."""

    converter_options = MappingProxyType({"train_fraction": 0.1})


@register("h1")
class H1DIS(Dataset):
    """H1 DIS simulation: Djangoh vs Rapgap leading jets (ROOT minitrees, see omnilearn.datasets.h1)."""

    classes = ("djangoh", "rapgap")
    converter = "omnilearn.datasets.h1"


@register("jetnet30")
class JetNet30(Dataset):
    """JetNet (arXiv:2106.11535): g, q, t, W, Z jets of ~1 TeV, 30 particles; generation (Table VI).

    The files hold the classes found in the input (JetNet's order), e.g. only t, w, z for
    the embedded Pythia jets.
    """

    classes = ("g", "q", "t", "w", "z")
    converter = "omnilearn.datasets.jetnet"
    converter_options = MappingProxyType({"num_particles": 30})


@register("jetnet150")
class JetNet150(JetNet30):
    """JetNet150: the same classes with up to 150 particles (Table VII)."""

    converter_options = MappingProxyType({"num_particles": 150})


@register("lhco")
class LHCO(Dataset):
    """LHC Olympics 2020 R&D (anomaly detection, Sec. VIII): QCD dijets and a W′ → X Y → (qq)(qq)
    signal, in the two-jet **event** format of :mod:`omnilearn.data.events` (not the per-jet one)."""

    classes = ("background", "signal")
    converter = "omnilearn.datasets.lhco"
    layout = "events"
    trained_by = "omnilearn lhco-train / lhco-classify"


# OmniFold (paper Sec. VII): paired particle-/detector-level files of a "data" and an "MC" sample,
# <data_dir>/<name>/{mc,data}_{train,val,test}.h5 (omnilearn.data.paired), not unified files.


class PairedDataset(Dataset):
    """An unfolding dataset: per split, a paired file of the "mc" and one of the "data" sample."""

    classes = ("mc", "data")
    layout = "paired"
    trained_by = "omnilearn omnifold"

    def files(self, data_dir: str | os.PathLike, split: str) -> list[Path]:
        """The paired files ``[mc_<split>.h5, data_<split>.h5]``."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return [self.directory(data_dir) / f"{sample}_{split}.h5" for sample in self.classes]


@register("omnifold")
class OmniFoldZJets(PairedDataset):
    """The OmniFold Z+jet Delphes samples (Zenodo 3548091): Herwig 7.1.5 "data", Pythia 8.243 tune 26 "MC"."""

    converter = "omnilearn.datasets.omnifold"


@register("omnifold_pythia")
class OmniFoldPythia(PairedDataset):
    """The offline OmniFold default: Pythia 8 Z+jet with two shower settings and a simple smearing
    (``omnilearn generate-omnifold``, :mod:`omnilearn.pythia.zjets`)."""
