"""``omnilearn generate-pythia`` and ``omnilearn preprocess``: making the unified data files."""

from __future__ import annotations

import argparse
from dataclasses import replace

from .flags import UsageError, nonnegative_float, positive_float, positive_int

#: PythiaConfig fields whose flags override the format's settings when given.
_OVERRIDES = (
    "classes",
    "pt_min",
    "pt_max",
    "eta_max",
    "num_particles",
    "val_fraction",
    "test_fraction",
    "pthat_min",
    "pthat_max",
)
#: --outdir of each --format when not given
_OUTDIRS = {"unified": "data/pythia", "top": "data/top_public", "qg": "data/qg_public", "jetnet": "data/jetnet_pythia"}

GENERATE = """Generate the embedded Pythia 8 + FastJet jets (a JetClass stand-in), or jets in a released format.

Examples:

    omnilearn generate-pythia --outdir data/pythia --jets_per_class 2000 --classes qcd top wqq zqq hbb --workers 2
    omnilearn generate-pythia --format top --outdir data/top_public --jets_per_class 5000
    omnilearn generate-pythia --format qg --outdir data/qg_public --jets_per_class 5000
    omnilearn generate-pythia --format jetnet --outdir data/jetnet_pythia --jets_per_class 2000

--format unified (default) writes train/val/test.h5 in the unified format; top writes the
top-tagging release's pandas HDF5 files and qg the quark/gluon release's QG_jets*.npz, with that
dataset's physics as defaults; jetnet writes top, W and Z jets as JetNet class files (t.hdf5,
w.hdf5, z.hdf5 with 30 particles, t150.hdf5 ... with 150; the Pythia jets cached in
<outdir>/pythia; seed 201 by default, unlike the quick start's pretraining sample). The released
formats are ready for `omnilearn preprocess --dataset top|qg|jetnet30|jetnet150`. Generation is
cached: a rerun with the same settings finds the files.
"""

PREPROCESS = """Convert a public dataset from its released format into unified train/val/test files.

Examples:

    omnilearn preprocess --dataset top --input /data/toptag                  # -> data/top/{train,val,test}.h5
    omnilearn preprocess --dataset jetclass --input /data/JetClass/Pythia
    omnilearn preprocess --dataset qg --input ~/.energyflow/datasets
    omnilearn preprocess --dataset atlas_small --input /data/atlas --max_jets 100000

The input each dataset expects is described in its module, omnilearn/datasets/<name>.py
(atlas_small uses atlas.py).
"""


def add_generate_pythia(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..pythia.formats import CONFIGS
    from ..pythia.generator import PROCESS_NAMES, PythiaConfig

    d = PythiaConfig()
    p.description = GENERATE
    p.add_argument("--outdir", default=None, help=f"output directory (default per format: {_OUTDIRS})")
    p.add_argument(
        "--format",
        choices=["unified", *CONFIGS, "jetnet"],
        default="unified",
        help="unified train/val/test.h5, or the top-tagging (top), quark/gluon (qg) or JetNet (jetnet) release's files",
    )
    p.add_argument("--jets_per_class", type=positive_int, default=d.jets_per_class, help="jets of each class")
    p.add_argument("--workers", type=positive_int, default=d.workers, help="processes (one Pythia each)")
    p.add_argument("--seed", type=int, default=None, help=f"default {d.seed} (jetnet: 201)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("physics (not with --format jetnet; default: the format's own settings)")
    g.add_argument(
        "--classes",
        nargs="+",
        default=None,
        choices=PROCESS_NAMES,
        help=f"classes to generate; labels are 0..C-1 in this order (unified default: {list(d.classes)})",
    )
    g.add_argument("--pt_min", type=nonnegative_float, default=None, help=f"jet pT window, GeV (unified: {d.pt_min})")
    g.add_argument("--pt_max", type=positive_float, default=None, help=f"(unified: {d.pt_max})")
    g.add_argument("--eta_max", type=positive_float, default=None, help=f"(unified: {d.eta_max})")
    g.add_argument(
        "--num_particles", type=positive_int, default=None, help=f"particles kept per jet (unified: {d.num_particles})"
    )
    g.add_argument("--val_fraction", type=nonnegative_float, default=None, help=f"(unified: {d.val_fraction})")
    g.add_argument("--test_fraction", type=nonnegative_float, default=None, help=f"(unified: {d.test_fraction})")
    g.add_argument("--pthat_min", type=nonnegative_float, default=None, help="hard-process pT floor (0.85 * pt_min)")
    g.add_argument("--pthat_max", type=positive_float, default=None, help="hard-process pT ceiling (1.25 * pt_max)")
    g.add_argument("--no_mpi", action="store_true", help="switch off the underlying event (~4x faster, less realistic)")
    g.add_argument("--force", action="store_true", help="regenerate even if a matching dataset exists")
    p.set_defaults(handler=generate_pythia)


def generate_pythia(a: argparse.Namespace) -> int:
    from ..pythia.formats import CONFIGS, generate_public
    from ..pythia.generator import PythiaConfig, generate

    outdir = a.outdir or _OUTDIRS[a.format]
    given = {name: getattr(a, name) for name in _OVERRIDES if getattr(a, name) is not None}
    if a.format == "jetnet":
        extra = [f"--{name}" for name in given] + [f"--{f}" for f in ("no_mpi", "force") if getattr(a, f)]
        if extra:
            raise UsageError(f"--format jetnet has fixed physics (top, W, Z jets); drop {' '.join(extra)}")
        from ..workflows.jetnet import make_pythia_jetnet

        seed = {} if a.seed is None else {"seed": a.seed}
        written = make_pythia_jetnet(
            outdir, jets_per_class=a.jets_per_class, workers=a.workers, progress=not a.quiet, **seed
        )
        for letter, path in written.items():
            print(f"{letter}: {path}")
        return 0
    base = PythiaConfig() if a.format == "unified" else CONFIGS[a.format]
    if "classes" in given:
        given["classes"] = tuple(given["classes"])
    if a.no_mpi:
        given["mpi"] = False
    seed = PythiaConfig().seed if a.seed is None else a.seed
    try:
        config = replace(base, jets_per_class=a.jets_per_class, seed=seed, workers=a.workers, **given)
    except ValueError as err:  # PythiaConfig checks its own settings (pT window, fractions, …)
        raise UsageError(str(err)) from None
    if a.format == "unified":
        result = generate(outdir, config, force=a.force, progress=not a.quiet)
        files = list(result.paths.values())
    else:
        result = generate_public(a.format, outdir, config, force=a.force, progress=not a.quiet)
        files = result.files
    state = "found (cached)" if result.cached else f"generated in {result.seconds:.1f} s"
    print(f"{outdir}: {state}")
    for name, s in result.stats.items():
        print(
            f"  {name:4s} {s.jets:6d} jets from {s.events:7d} events, per worker: "
            f"{s.events_per_second:5.1f} events/s {s.jets_per_second:5.1f} jets/s (wall), "
            f"{s.events_per_cpu_second:5.1f} events/s {s.jets_per_cpu_second:5.1f} jets/s (CPU)"
        )
    for path in files:
        print(f"  {path}")
    return 0


def add_preprocess(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..datasets import registry

    p.description = PREPROCESS
    p.add_argument(
        "--dataset", required=True, choices=sorted(name for name, d in registry.DATASETS.items() if d.converter)
    )
    p.add_argument("--input", required=True, help="the released file or directory (see the dataset's module)")
    p.add_argument("--data_dir", default="data", help="parent of the default --outdir")
    p.add_argument("--outdir", default=None, help="folder of train.h5, val.h5, test.h5 (default <data_dir>/<dataset>)")
    p.add_argument(
        "--max_jets",
        type=positive_int,
        default=None,
        help="read at most this many input jets (per split file for top, per training/test set "
        "for ATLAS, per generator for h1, per split for jetclass)",
    )
    p.add_argument(
        "--num_particles", type=positive_int, default=None, help="particles kept per jet (default: the dataset's)"
    )
    p.add_argument("--seed", type=int, default=0, help="seeds class balancing, split assignment and output shuffling")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=preprocess)


def preprocess(a: argparse.Namespace) -> int:
    from ..datasets import registry

    dataset = registry.get(a.dataset)
    options = {"max_jets": a.max_jets, "seed": a.seed, "progress": not a.quiet}
    if a.num_particles is not None:
        options["num_particles"] = a.num_particles
    result = dataset.preprocess(a.input, a.outdir or dataset.directory(a.data_dir), **options)
    for split, path in result.paths.items():
        print(f"{split:5s} {result.counts[split]:9d} jets  {path}")
    return 0
