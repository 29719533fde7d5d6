"""JetNet generation (paper Sec. VI, Tables VI–VII): data → train → sample → evaluate.

* :func:`make_pythia_jetnet` writes embedded Pythia jets (t → bqq', W → qq', Z → qq̄) as JetNet
  class files (``t.hdf5``, ``w.hdf5``, ``z.hdf5`` and the ``*150.hdf5`` variants), the stand-in
  for the real JetNet files that cannot be downloaded here; ``scripts/preprocess.py --dataset
  jetnet30`` then converts either into unified files.
* :func:`train` fits the jet-level model (always from scratch, as in the paper) unless it
  exists, and the particle generator (OmniLearn's generator head, mode ``generator``) from
  scratch or from a pretrained checkpoint; with a pretrained body the generator head keeps its
  pretrained weights except the class-label embedding, which is new (the JetNet classes).
* :func:`sample` draws jets from the jet model (or takes them from a data split: the paper's
  "Ideal" rows), then particles conditioned on them, and writes JetNet class files.
* :func:`evaluate` computes the metrics of :mod:`omnilearn.evaluation.generation` against the
  test split, per class.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..config import ModelConfig, TrainConfig
from ..datasets import jetnet as jn
from ..datasets.registry import get as get_dataset
from ..evaluation import generation as metrics
from ..generation.jet_model import load_jet_model, sample_jets, train_jet_model
from ..generation.sampler import DEFAULT_SOLVER, DEFAULT_STEPS, sample_particles
from ..training import checkpoint
from ..training.run import run_training

#: Embedded Pythia classes written as JetNet classes (QCD is not split into quark and gluon
#: jets by the generator, and JetNet has no H → bb̄).
PYTHIA_TO_JETNET = {"top": "t", "wqq": "w", "zqq": "z"}
SAMPLES_META = "samples.json"


def make_pythia_jetnet(
    outdir: str | os.PathLike = "data/jetnet_pythia",
    *,
    source_dir: str | os.PathLike | None = None,
    jets_per_class: int = 2000,
    seed: int = 201,
    workers: int = 2,
    progress: bool = True,
) -> dict:
    """Generate Pythia t/W/Z jets (cached) and write them as JetNet30 and JetNet150 class files.

    The seed differs from the quick start's pretraining sample (seed 1), so the pretrained body
    has never seen these jets. Returns {letter: path} of the 30-particle files.
    """
    from ..pythia.generator import PythiaConfig, generate

    outdir = Path(outdir)
    source = Path(source_dir) if source_dir is not None else outdir / "pythia"
    result = generate(
        source,
        PythiaConfig(classes=tuple(PYTHIA_TO_JETNET), jets_per_class=jets_per_class, seed=seed, workers=workers),
        progress=progress,
    )
    paths = [result.paths[s] for s in ("train", "val", "test")]
    jn.export_unified(paths, outdir, PYTHIA_TO_JETNET, num_particles=150)
    return jn.export_unified(paths, outdir, PYTHIA_TO_JETNET, num_particles=30)


def model_config_from(checkpoint_dir: str | os.PathLike) -> ModelConfig:
    """The architecture of a checkpoint (the class count follows the data)."""
    return ModelConfig.from_dict(checkpoint.read_meta(checkpoint_dir)["model"]).replace(feature_drop=0.0)


def train_jets(
    dataset: str,
    data_dir: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    epochs: int = 200,
    batch: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    verbose: int | str = "auto",
) -> Path:
    """Fit the jet-level model on ``<data_dir>/<dataset>/{train,val}.h5`` into ``outdir``."""
    ds = get_dataset(dataset)
    _, jet, pid, classes = jn.read_unified(ds.files(data_dir, "train")[0])
    _, vjet, vpid, _ = jn.read_unified(ds.files(data_dir, "val")[0])
    train_jet_model(
        jet, pid, classes, outdir, val=(vjet, vpid), epochs=epochs, batch=batch, lr=lr, seed=seed, verbose=verbose
    )
    return Path(outdir)


def train(
    dataset: str,
    data_dir: str | os.PathLike,
    outdir: str | os.PathLike,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    *,
    pretrained: str | os.PathLike | None = None,
    jet_dir: str | os.PathLike | None = None,
    jet_epochs: int = 200,
    seed: int = 0,
    verbose: int | str = "auto",
    resume: bool = True,
    rank: int = 0,
    num_workers: int = 1,
):
    """Jet model (if ``jet_dir`` has none yet; rank 0 only) and particle generator (data-parallel
    over ``num_workers`` like every run); returns the run result."""
    if rank == 0 and jet_dir is not None and not (Path(jet_dir) / "jet_model.json").exists():
        train_jets(dataset, data_dir, jet_dir, epochs=jet_epochs, seed=seed, verbose=verbose)
    ds = get_dataset(dataset)
    return run_training(
        ds.files(data_dir, "train"),
        ds.files(data_dir, "val"),
        outdir,
        model_cfg,
        train_cfg.replace(mode="generator"),
        pretrained=pretrained,
        dataset=dataset,
        seed=seed,
        verbose=verbose,
        resume=resume,
        rank=rank,
        num_workers=num_workers,
    )


def sample(
    run_dir: str | os.PathLike,
    jet_dir: str | os.PathLike,
    reference: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    ideal: str | os.PathLike | None = None,
    num_jets: int | None = None,
    steps: int = DEFAULT_STEPS,
    guidance: float = 0.0,
    solver: str = DEFAULT_SOLVER,
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = True,
) -> dict:
    """Generate jets and write ``outdir/<type>.hdf5`` (JetNet layout) and ``samples.json``.

    Args:
        run_dir: particle-generator checkpoint (e.g. ``runs/jetnet30_omnilearn/best``).
        jet_dir: jet-model directory (ignored with ``ideal``).
        reference: unified file whose class counts are matched (the test split), unless
            ``num_jets`` (per class) is given.
        ideal: a unified file whose jets (pT, η, mass, multiplicity, class) condition the
            particles instead of the jet model (the paper's "Ideal": the validation split).
    """
    model = checkpoint.load(run_dir, mode="generator")
    norm = checkpoint.load_normalization(run_dir)
    classes = tuple(checkpoint.read_meta(run_dir)["classes"])
    _, ref_jet, ref_pid, ref_classes = jn.read_unified(reference)
    if tuple(ref_classes) != classes:
        raise ValueError(f"{reference} has classes {ref_classes}, the model {classes}")
    num_particles = jn.inspect_file(reference).num_particles
    start = time.perf_counter()
    if ideal is not None:
        _, jets, pid, ideal_classes = jn.read_unified(ideal)
        if tuple(ideal_classes) != classes:
            raise ValueError(f"{ideal} has classes {ideal_classes}, the model {classes}")
        jets = jets.astype(np.float32).copy()
    else:
        counts = np.bincount(ref_pid, minlength=len(classes)) if num_jets is None else np.full(len(classes), num_jets)
        pid = np.repeat(np.arange(len(classes)), counts)
        jet_model, jet_meta = load_jet_model(jet_dir)
        if tuple(jet_meta["classes"]) != classes:
            raise ValueError(f"jet model {jet_dir} has classes {jet_meta['classes']}, the generator {classes}")
        jets = sample_jets(
            jet_model,
            jet_meta,
            pid,
            max_particles=num_particles,
            steps=steps,
            guidance=guidance,
            solver=solver,
            seed=seed,
        )
    jet_time = time.perf_counter() - start
    mult = np.clip(jets[:, 3], 1, num_particles).astype(int)
    jets[:, 3] = mult
    mask = (np.arange(num_particles)[None, :] < mult[:, None]).astype(np.float32)
    jet_norm = (jets - norm.jet_mean) / norm.jet_std
    label = np.eye(len(classes), dtype=np.float32)[pid]
    x = sample_particles(
        model,
        jet_norm,
        label,
        mask,
        steps=steps,
        guidance=guidance,
        solver=solver,
        seed=seed + 1,
        batch_size=batch_size,
        progress=progress,
    )
    elapsed = time.perf_counter() - start
    physical = (x * norm.particle_std + norm.particle_mean) * mask[..., None]
    # a sampled slot is a particle unless its sampled pT_rel ≤ 0 (unified_to_jetnet drops those),
    # so the written multiplicity can fall below the jet model's by those few
    particles, jetnet_jets = jn.unified_to_jetnet(physical, jets)
    particles[..., 3] *= mask
    particles[mask == 0] = 0.0
    jetnet_jets[:, 3] = particles[..., 3].sum(1)
    outdir = Path(outdir)
    written = {}
    for i, t in enumerate(classes):
        sel = pid == i
        written[t] = str(jn.write_jetnet(outdir / jn.file_name(t, num_particles), particles[sel], jetnet_jets[sel]))
    meta = {
        "run": str(run_dir),
        "jet_model": None if ideal is not None else str(jet_dir),
        "ideal": None if ideal is None else str(ideal),
        "steps": steps,
        "solver": solver,
        "guidance": guidance,
        "seed": seed,
        "num_jets": int(len(pid)),
        "num_particles": num_particles,
        "classes": list(classes),
        "files": written,
        "seconds": elapsed,
        "jet_model_seconds": jet_time,
        "ms_per_jet": 1e3 * elapsed / max(len(pid), 1),
    }
    (outdir / SAMPLES_META).write_text(json.dumps(meta, indent=2))
    return meta


def truth_by_class(test_file: str | os.PathLike) -> dict[str, np.ndarray]:
    """{jet type: JetNet particle arrays} of a unified file (the test split)."""
    data, jet, pid, classes = jn.read_unified(test_file)
    particles, _ = jn.unified_to_jetnet(data, jet)
    return metrics.class_arrays(particles, pid, classes)


def read_samples(sample_dir: str | os.PathLike, types: Sequence[str], num_particles: int) -> dict[str, np.ndarray]:
    """{jet type: particles} of a sample directory (only the types whose files exist)."""
    out = {}
    for t in types:
        path = Path(sample_dir) / jn.file_name(t, num_particles)
        if path.exists():
            out[t] = jn.read_jetnet(path)[0]
    if not out:
        raise FileNotFoundError(f"no sample files for {list(types)} in {sample_dir}")
    return out


def evaluate(
    test_file: str | os.PathLike,
    samples: Mapping[str, str | os.PathLike],
    *,
    seed: int = 0,
    with_fpnd: bool = True,
    cov_batches: int = 10,
) -> dict[str, dict[str, dict]]:
    """{run label: {jet type: metrics}} of each sample directory against ``test_file``."""
    truth = truth_by_class(test_file)
    num_particles = next(iter(truth.values())).shape[1]
    results = {}
    for label, directory in samples.items():
        gen = read_samples(directory, list(truth), num_particles)
        results[label] = {
            t: metrics.evaluate(truth[t], gen[t], t, seed=seed, with_fpnd=with_fpnd, cov_batches=cov_batches)
            for t in gen
        }
    return results
