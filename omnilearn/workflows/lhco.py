"""LHCO resonant anomaly detection (paper Sec. VIII): CWoLa classification of signal-region
"data" against a background template, scored by the maximum SIC on an independent test set.

Inputs are event files (:mod:`omnilearn.data.events`) in ``data_dir/{train,val,test}.h5``, from
the LHCO converter (:mod:`omnilearn.datasets.lhco`) or the offline Pythia default. One
classification (:func:`classify`):

* **data** (label 1): signal-region background of the ``train`` split plus ``n_sig`` signal
  events drawn at random from its signal-region signal;
* **template** (label 0): with ``ideal``, signal-region background of the ``train`` split that
  is *not* in the data (the train split's signal-region background is halved at random);
  otherwise a generated signal-region background file (``template``, e.g. from
  :func:`omnilearn.generation.lhco.sample_signal_region`), and the data take all of it.
  Template events are weighted so that both classes have the data's total weight;
* 20 % of both (``val_fraction``) is held out for the validation loss that picks the epoch;
* **test**: every signal-region event of the ``test`` split (background and signal), never used
  in training (the authors' test set overlapped with the training data; this one does not);
  the score is the classifier's signal probability, the figure of merit the maximum SIC over
  εB > 1e-4 (:func:`omnilearn.evaluation.anomaly.max_sic`).

Fine-tuned (``pretrained``: an OmniLearn checkpoint, whose normalisation the inputs then use,
body at 0.1x the head learning rate) or from scratch.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ModelConfig, TrainConfig
from ..data import events as ev
from ..data.features import PARTICLE_FEATURES
from ..errors import OmniLearnError
from ..evaluation.anomaly import max_sic, sic_curve
from ..evaluation.results import write_json


@dataclass
class ClassifyConfig:
    """One CWoLa classification; ``seed`` seeds the signal draw, the split and the training."""

    n_sig: int = 1000
    ideal: bool = True
    seed: int = 0
    #: generated signal-region background (event file); required unless ``ideal``
    template: str | None = None
    #: OmniLearn checkpoint to fine-tune; None trains from scratch
    pretrained: str | None = None
    epochs: int = 10
    warm_epoch: int = 1
    batch: int = 128
    lr: float = 3e-4
    wd: float = 0.1
    val_fraction: float = 0.2
    min_particle_pt: float = ev.MIN_PARTICLE_PT
    #: particles per jet given to the model (the hardest); None: all in the files
    num_particles: int | None = None
    #: the model when not fine-tuning (a fine-tune takes the checkpoint's)
    model: dict | None = None


def _select(events: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in events.items()}


def _concat(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _load(path: Path, num_particles: int | None) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise OmniLearnError(f"{path}: no such event file (convert or generate the LHCO events first)")
    events = ev.read_events(path)
    if num_particles is not None:
        # the multiplicity stays the number of particles the model sees, as in the files: else
        # a generated template (at most P particles) would differ from the data by it alone
        events["data"] = events["data"][:, :, :num_particles]
        events["jet"][..., 4] = np.minimum(events["jet"][..., 4], num_particles)
    return events


def cwola_sets(
    train: dict[str, np.ndarray], template: dict[str, np.ndarray] | None, n_sig: int, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(data, template)`` event sets of a CWoLa training (see the module doc); the data hold
    ``n_sig`` signal events. ``template`` None: the ideal case (half of the background)."""
    sr = ev.signal_region_mask(train["mjj"])
    bkg = rng.permutation(np.flatnonzero(sr & (train["label"] == 0)))
    sig = np.flatnonzero(sr & (train["label"] == 1))
    if n_sig > len(sig):
        raise OmniLearnError(f"--n_sig {n_sig}: only {len(sig)} signal events in the signal region of the train split")
    if len(bkg) < 2:
        raise OmniLearnError("the train split has fewer than 2 signal-region background events")
    injected = rng.choice(sig, n_sig, replace=False)
    if template is None:
        half = len(bkg) // 2
        data_idx, template = np.concatenate([bkg[:half], injected]), _select(train, bkg[half:])
    else:
        data_idx = np.concatenate([bkg, injected])
        template = _select(template, ev.signal_region_mask(template["mjj"]))
        if len(template["mjj"]) == 0:
            raise OmniLearnError("the template holds no signal-region events")
    return _select(train, data_idx), template


def _model_config(cfg: ClassifyConfig) -> ModelConfig:
    if cfg.pretrained is not None:
        from ..models import checkpoint

        return ModelConfig.from_dict(checkpoint.read_meta(cfg.pretrained)["model"])
    return ModelConfig.from_dict(cfg.model or {})


def _compile(model, cfg, steps: int) -> None:
    """Compile with LION and cosine warm-up from ``cfg`` (lr, epochs, warm_epoch, wd; with a
    pretrained checkpoint the body gets its own optimizer at the fine-tuning rate)."""
    from ..training.optimizers import make_optimizers

    train_cfg = TrainConfig(
        lr=cfg.lr,
        epoch=cfg.epochs,
        warm_epoch=min(cfg.warm_epoch, cfg.epochs),
        wd=cfg.wd,
        fine_tune=cfg.pretrained is not None,
    )
    head_opt, body_opt = make_optimizers(train_cfg, steps)
    model.compile(optimizer=head_opt, body_optimizer=body_opt)


def classify(
    data_dir: str | Path, outdir: str | Path, cfg: ClassifyConfig, progress: bool = True, write: bool = True
) -> dict:
    """Train one CWoLa classifier and evaluate it; writes ``outdir/results.json`` (``write``:
    rank 0 only) and returns the result."""
    import keras
    import tensorflow as tf

    from ..models.dijet import DijetClassifier

    start = time.time()
    if not cfg.ideal and cfg.template is None:
        raise OmniLearnError("a generated template (--template) is needed unless --ideal")
    keras.utils.set_random_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    data_dir = Path(data_dir)
    train = _load(data_dir / "train.h5", cfg.num_particles)
    test = _load(data_dir / "test.h5", cfg.num_particles)
    template = None if cfg.ideal else _load(Path(cfg.template), cfg.num_particles)
    data, template = cwola_sets(train, template, cfg.n_sig, rng)

    model = DijetClassifier(_model_config(cfg))
    model(ev.model_inputs(_select(data, np.arange(1)), ev.event_normalization(data)))  # builds every layer
    if cfg.pretrained is not None:
        from ..models import checkpoint

        model.load_pretrained(cfg.pretrained)
        normalization = checkpoint.load_normalization(cfg.pretrained)
    else:
        normalization = ev.event_normalization(_concat(data, template))

    n_data, n_template = len(data["mjj"]), len(template["mjj"])
    inputs = {
        k: np.concatenate([a, b])
        for k, a, b in zip(
            ("particles", "mask", "jet", "mjj"),
            *[
                [ev.model_inputs(s, normalization, cfg.min_particle_pt)[k] for k in ("particles", "mask", "jet", "mjj")]
                for s in (data, template)
            ],
        )
    }
    inputs["label"] = np.concatenate([np.ones(n_data), np.zeros(n_template)]).astype(np.int32)
    inputs["weight"] = np.concatenate([np.ones(n_data), np.full(n_template, n_data / n_template)]).astype(np.float32)
    order = rng.permutation(n_data + n_template)
    n_val = max(int(round(cfg.val_fraction * len(order))), 1)
    val_idx, train_idx = order[:n_val], order[n_val:]

    def dataset(idx, shuffle):
        ds = tf.data.Dataset.from_tensor_slices({k: v[idx] for k, v in inputs.items()})
        if shuffle:
            ds = ds.shuffle(len(idx), seed=cfg.seed, reshuffle_each_iteration=True)
        return ds.batch(cfg.batch)

    steps = max(int(np.ceil(len(train_idx) / cfg.batch)), 1)
    _compile(model, cfg, steps)
    stop = keras.callbacks.EarlyStopping(patience=cfg.epochs, restore_best_weights=True)
    history = model.fit(
        dataset(train_idx, True),
        validation_data=dataset(val_idx, False),
        epochs=cfg.epochs,
        verbose=1 if progress else 0,
        callbacks=[stop],
        shuffle=False,  # the tf.data pipeline shuffles
    )

    test = _select(test, ev.signal_region_mask(test["mjj"]))
    is_signal = test["label"] == 1
    if is_signal.all() or not is_signal.any():
        raise OmniLearnError("the test split needs signal-region background and signal events")
    test_inputs = ev.model_inputs(test, normalization, cfg.min_particle_pt)
    scores = np.concatenate(
        [
            np.asarray(model.predict_on_batch({k: v[a : a + 256] for k, v in test_inputs.items()}))
            for a in range(0, len(is_signal), 256)
        ]
    )
    curve = sic_curve(is_signal, scores)
    keep = np.unique(np.linspace(0, len(curve["tpr"]) - 1, min(len(curve["tpr"]), 300)).astype(int))
    n_bkg_data = int((data["label"] == 0).sum())
    result = {
        "task": "lhco",
        "n_sig": cfg.n_sig,
        "ideal": cfg.ideal,
        "fine_tuned": cfg.pretrained is not None,
        "seed": cfg.seed,
        "max_sic": max_sic(is_signal, scores),
        "initial_significance": float(cfg.n_sig / np.sqrt(max(n_bkg_data, 1))),
        "n_data": n_data,
        "n_template": n_template,
        "n_test_signal": int(is_signal.sum()),
        "n_test_background": int((~is_signal).sum()),
        "val_loss": [float(x) for x in history.history.get("val_loss", [])],
        "loss": [float(x) for x in history.history.get("loss", [])],
        "roc": {"tpr": curve["tpr"][keep].tolist(), "fpr": curve["fpr"][keep].tolist()},
        "config": dataclasses.asdict(cfg),
        "seconds": round(time.time() - start, 1),
    }
    if write:
        write_json(result, Path(outdir) / "results.json")
    return result


# ----------------------------------------------------------------------------------------------
# Background generator: trained on the sidebands, sampled in the signal region

PARTICLES, JETS = "particles", "jets"


@dataclass
class GeneratorConfig:
    """Sideband training of the background generator (two models, as for JetNet, Sec. VI):

    * the particle generator: the PET body + generator head applied to each jet, its class
      label replaced by the scaled m_jj (paper Sec. VIII) and conditioned on the jet's
      (pT, η, mass, N); fine-tuned from ``pretrained`` (whose normalisation it then uses; its
      label embedding, of another size, starts fresh) or from scratch; label drop off (the
      condition is always given: no guidance is used);
    * the jet model: :class:`~omnilearn.generation.jet_model.JetDiffusion` on both jets'
      (pT, η, mass, N) (8 numbers) given the scaled m_jj, always from scratch.
    """

    seed: int = 0
    pretrained: str | None = None
    epochs: int = 10
    warm_epoch: int = 1
    batch: int = 128
    lr: float = 3e-4
    wd: float = 0.0
    jet_epochs: int = 100
    jet_lr: float = 1e-3
    num_particles: int | None = None
    model: dict | None = None


def _jet_vectors(events: dict[str, np.ndarray]) -> np.ndarray:
    """``(N, 8)`` both jets' unified (pT, η, mass, N), the jet model's variables."""
    return ev.unified_jet(events["jet"]).reshape(len(events["mjj"]), -1).astype(np.float64)


def _per_jet_inputs(events, normalization) -> dict[str, np.ndarray]:
    """The generator's per-jet training batches: ``2N`` jets, label = the event's scaled m_jj."""
    x = ev.model_inputs(events, normalization, min_particle_pt=0.0)
    n, _, p, f = x["particles"].shape
    return {
        "particles": x["particles"].reshape(2 * n, p, f),
        "mask": x["mask"].reshape(2 * n, p),
        "jet": x["jet"].reshape(2 * n, -1),
        "label": np.repeat(x["mjj"], 2, axis=0),
        "weight": np.ones(2 * n, np.float32),
    }


def train_generator(data_dir: str | Path, outdir: str | Path, cfg: GeneratorConfig, progress: bool = True) -> dict:
    """Train the jet model and the particle generator on the sideband events of ``train``
    (``val``'s sidebands for the validation loss, paper Fig. 12); writes ``outdir/particles``
    (an OmniLearn checkpoint), ``outdir/jets`` (the jet model) and ``outdir/generator.json``."""
    import keras
    import tensorflow as tf

    from ..generation.jet_model import JetDiffusion, save_jet_model
    from ..models import OmniLearn
    from ..models import checkpoint as ckpt

    start = time.time()
    keras.utils.set_random_seed(cfg.seed)
    data_dir, outdir = Path(data_dir), Path(outdir)
    sets = {}
    for split in ("train", "val"):
        events = _load(data_dir / f"{split}.h5", cfg.num_particles)
        sets[split] = _select(events, ev.sideband_mask(events["mjj"]))
        if len(sets[split]["mjj"]) == 0:
            raise OmniLearnError(f"{data_dir / split}.h5: no sideband events")
    num_particles = sets["train"]["data"].shape[2]

    # jet model: (N, 8) given scaled m_jj, standardised
    jets = {s: _jet_vectors(e) for s, e in sets.items()}
    mean, std = jets["train"].mean(0), jets["train"].std(0)
    std = np.where(std > 1e-8, std, 1.0)
    jet_model = JetDiffusion(8, 1, class_drop=0.0, seed=cfg.seed).build_all()

    def jet_ds(split, shuffle):
        x = ((jets[split] - mean) / std).astype(np.float32)
        ds = tf.data.Dataset.from_tensor_slices({"x": x, "label": ev.scale_mjj(sets[split]["mjj"])[:, None]})
        return (ds.shuffle(len(x), seed=cfg.seed) if shuffle else ds).batch(256)

    jet_steps = int(np.ceil(len(jets["train"]) / 256)) * cfg.jet_epochs
    jet_model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(cfg.jet_lr, jet_steps)))
    jet_hist = jet_model.fit(
        jet_ds("train", True),
        validation_data=jet_ds("val", False),
        epochs=cfg.jet_epochs,
        verbose=0,
        callbacks=[keras.callbacks.EarlyStopping(patience=cfg.jet_epochs, restore_best_weights=True)],
        shuffle=False,  # the tf.data pipeline shuffles
    )
    jet_meta = {"config": jet_model.get_config(), "classes": ["mjj"], "mean": mean.tolist(), "std": std.tolist()}

    # particle generator
    if cfg.pretrained is not None:
        model_cfg = ModelConfig.from_dict(ckpt.read_meta(cfg.pretrained)["model"])
    else:
        model_cfg = ModelConfig.from_dict(cfg.model or {})
    model_cfg = model_cfg.replace(num_classes=1, class_drop=0.0)
    model = OmniLearn(model_cfg, mode="generator", seed=cfg.seed)
    if cfg.pretrained is not None:
        model.load_pretrained(cfg.pretrained)
        normalization = ckpt.load_normalization(cfg.pretrained)
    else:
        normalization = ev.event_normalization(sets["train"])
    inputs = {s: _per_jet_inputs(e, normalization) for s, e in sets.items()}

    def ds(split, shuffle):
        d = tf.data.Dataset.from_tensor_slices(inputs[split])
        return (d.shuffle(len(d), seed=cfg.seed) if shuffle else d).batch(cfg.batch)

    steps = int(np.ceil(len(inputs["train"]["mask"]) / cfg.batch))
    _compile(model, cfg, steps)
    hist = model.fit(
        ds("train", True),
        validation_data=ds("val", False),
        epochs=cfg.epochs,
        verbose=1 if progress else 0,
        callbacks=[keras.callbacks.EarlyStopping(patience=cfg.epochs, restore_best_weights=True)],
        shuffle=False,  # the tf.data pipeline shuffles
    )
    val_loss = [float(x) for x in hist.history["val_loss"]]
    model.save_checkpoint(
        outdir / PARTICLES,
        normalization=normalization,
        classes=["mjj"],
        epoch=int(np.argmin(val_loss)) + 1,
        best=min(val_loss),
        data={"dataset": "lhco", "num_particles": num_particles},
    )
    save_jet_model(jet_model, outdir / JETS, jet_meta)
    result = {
        "task": "lhco_generator",
        "fine_tuned": cfg.pretrained is not None,
        "seed": cfg.seed,
        "num_sideband_events": {s: int(len(e["mjj"])) for s, e in sets.items()},
        "loss": [float(x) for x in hist.history["loss"]],
        "val_loss": val_loss,
        "jet_val_loss": [float(x) for x in jet_hist.history["val_loss"]],
        "config": dataclasses.asdict(cfg),
        "seconds": round(time.time() - start, 1),
    }
    write_json(result, outdir / "generator.json")
    return result


def sample_signal_region(
    run_dir: str | Path,
    data_dir: str | Path,
    output: str | Path,
    *,
    num_events: int | None = None,
    steps: int = 64,
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = True,
) -> dict:
    """Generate signal-region background events into the event file ``output`` (label 0):
    m_jj from the density of the ``train`` split's signal-region data
    (:func:`~omnilearn.data.events.sample_mjj`), both jets' kinematics from the jet model, the
    particles of each jet from the generator (its EMA weights when kept), all features rebuilt
    (:func:`~omnilearn.data.events.rebuild_features`). ``num_events`` defaults to the number
    of signal-region events in ``train``; ``steps`` are the sampler's (both models). The stored m_jj is
    the drawn condition."""
    from ..generation.jet_model import load_jet_model
    from ..generation.sampler import integrate, sample_particles
    from ..models import OmniLearn
    from ..models import checkpoint as ckpt

    start = time.time()
    run_dir = Path(run_dir)
    train = ev.read_events(Path(data_dir) / "train.h5")
    sr_mjj = train["mjj"][ev.signal_region_mask(train["mjj"])]
    num_events = len(sr_mjj) if num_events is None else int(num_events)
    rng = np.random.default_rng(seed)
    mjj = ev.sample_mjj(train["mjj"], num_events, rng)
    label = ev.scale_mjj(mjj)[:, None]

    jet_model, meta = load_jet_model(run_dir / JETS)
    model = OmniLearn.from_checkpoint(run_dir / PARTICLES, mode="generator")
    norm = ckpt.load_normalization(run_dir / PARTICLES)
    num_particles = int(ckpt.read_meta(run_dir / PARTICLES)["data"]["num_particles"])
    mean, std = np.asarray(meta["mean"]), np.asarray(meta["std"])
    noise = rng.standard_normal((num_events, 1, 8)).astype(np.float32)
    ones = np.ones((num_events, 1), np.float32)

    def velocity(x, t):
        return jet_model({"x": x[:, 0], "time": t, "label": label})[:, None]

    jets = integrate(velocity, noise, ones, steps).numpy()[:, 0] * std + mean
    jets = jets.reshape(num_events, 2, 4)
    jets[..., 2] = np.clip(jets[..., 2], 0.0, None)
    jets[..., 3] = np.clip(np.rint(jets[..., 3]), 1, num_particles)
    mult = jets[..., 3].astype(int).reshape(-1)
    mask = (np.arange(num_particles)[None, :] < mult[:, None]).astype(np.float32)
    flat_jets = jets.reshape(-1, 4)
    x = sample_particles(
        model,
        ((flat_jets - norm.jet_mean) / norm.jet_std).astype(np.float32),
        np.repeat(label, 2, axis=0),
        mask,
        steps=steps,
        seed=seed + 1,
        batch_size=batch_size,
        progress=progress,
    )
    physical = (x * norm.particle_std + norm.particle_mean) * mask[..., None]
    # the event's jets: back to back in φ (the classifier never sees φ), stored for the format
    phi0 = rng.uniform(-np.pi, np.pi, num_events)
    phi = np.stack([phi0, (phi0 + 2 * np.pi) % (2 * np.pi) - np.pi], axis=1).reshape(-1)
    full_jet = np.stack([flat_jets[:, 0], flat_jets[:, 1], phi, flat_jets[:, 2], flat_jets[:, 3]], axis=1)
    data = ev.rebuild_features(physical, mask, full_jet)
    # hardest first, as the event format stores them (the generator's order is arbitrary)
    key = np.where(mask > 0, data[..., 2], -np.inf)
    data = np.take_along_axis(data, np.argsort(-key, axis=1, kind="stable")[..., None], axis=1)
    data, event_jet = ev.jets_to_events(data, full_jet.astype(np.float32))
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    writer = ev.EventWriter(output, num_particles, present_features=ev.PARTICLE_FEATURES[:7])
    try:
        writer.append(data, event_jet, mjj.astype(np.float32), np.zeros(num_events, np.int32))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return {"output": str(output), "num_events": num_events, "steps": steps, "seconds": round(time.time() - start, 1)}


# ----------------------------------------------------------------------------------------------
# Where runs live, and the summary over seeds

SAMPLE_FILE = "signal_region.h5"


def start_name(fine_tuned: bool) -> str:
    return "omnilearn" if fine_tuned else "scratch"


def generator_dir(runs_dir: str | Path, fine_tuned: bool) -> Path:
    """``<runs_dir>/lhco_generator_{omnilearn,scratch}``; its samples: ``…/signal_region.h5``."""
    return Path(runs_dir) / f"lhco_generator_{start_name(fine_tuned)}"


def classify_dir(runs_dir: str | Path, ideal: bool, fine_tuned: bool, n_sig: int, seed: int) -> Path:
    """``<runs_dir>/lhco_classify/{ideal,generated}_{omnilearn,scratch}/nsig<N>_seed<S>``."""
    variant = f"{'ideal' if ideal else 'generated'}_{start_name(fine_tuned)}"
    return Path(runs_dir) / "lhco_classify" / variant / f"nsig{n_sig}_seed{seed}"


def summarize(runs_dir: str | Path) -> dict:
    """Max SIC per variant and injected signal over the seeds found: {variant: {``n_sig``,
    ``median``, ``low``, ``high``, ``n``, ``initial_significance``, ``seconds``}}."""
    import json

    from ..evaluation.anomaly import band

    found: dict[str, dict[int, list[dict]]] = {}
    for path in sorted((Path(runs_dir) / "lhco_classify").glob("*/nsig*_seed*/results.json")):
        r = json.loads(path.read_text())
        found.setdefault(path.parent.parent.name, {}).setdefault(int(r["n_sig"]), []).append(r)
    out = {}
    for variant, by_n in sorted(found.items()):
        rows = {"n_sig": [], "median": [], "low": [], "high": [], "n": [], "initial_significance": [], "seconds": []}
        for n_sig in sorted(by_n):
            b = band([r["max_sic"] for r in by_n[n_sig]])
            rows["n_sig"].append(n_sig)
            for k in ("median", "low", "high", "n"):
                rows[k].append(b[k])
            rows["initial_significance"].append(float(np.mean([r["initial_significance"] for r in by_n[n_sig]])))
            rows["seconds"].append(float(np.mean([r["seconds"] for r in by_n[n_sig]])))
        out[variant] = rows
    return out


def jet_tau21(events: dict[str, np.ndarray]) -> np.ndarray:
    """τ21 ``(N, 2)`` of each jet from the particles stored with it (the first ``min(N, P)``
    rows, hardest first), rebuilt from Δη, Δφ, log pT, log E and the jet's η, φ."""
    from ..pythia.zjets import tau21

    col = {name: PARTICLE_FEATURES.index(name) for name in ("delta_eta", "delta_phi", "log_pt", "log_e")}
    data, jets = events["data"], events["jet"]
    out = np.zeros(jets.shape[:2])
    for i, j in np.ndindex(*out.shape):
        n = int(min(jets[i, j, 4], data.shape[2]))
        x = data[i, j, :n].astype(np.float64)
        out[i, j] = tau21(
            np.exp(x[:, col["log_pt"]]),
            x[:, col["delta_eta"]] + jets[i, j, 1],
            x[:, col["delta_phi"]] + jets[i, j, 2],
            np.exp(x[:, col["log_e"]]),
        )
    return out


def _observables(events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    tau = jet_tau21(events)
    return {
        "m_j1 [GeV]": events["jet"][:, 0, 3],
        "m_j2 [GeV]": events["jet"][:, 1, 3],
        r"$\tau_{21}$ (j1)": tau[:, 0],
        r"$\tau_{21}$ (j2)": tau[:, 1],
        "N_1": events["jet"][:, 0, 4],
        "N_2": events["jet"][:, 1, 4],
        "m_jj [GeV]": events["mjj"],
    }


def evaluate(runs_dir: str | Path, data_dir: str | Path, plot_dir: str | Path) -> dict:
    """Write ``<plot_dir>/lhco_sic.json`` (:func:`summarize`) and ``lhco_max_sic.png``; with
    generator runs, ``lhco_generator_loss.png`` (Fig. 12) and, for each one with samples,
    ``lhco_<run>_distributions.png`` (generated vs true signal-region background of ``test``:
    m_j1, m_j2, τ21 of each jet, multiplicities, m_jj)."""
    import json

    from .. import plotting

    plot_dir = Path(plot_dir)
    summary = summarize(runs_dir)
    if not summary:
        raise OmniLearnError(f"{runs_dir}: no classification results (run `omnilearn lhco-classify` first)")
    write_json(summary, plot_dir / "lhco_sic.json")
    written = [str(plotting.plot_max_sic(summary, plot_dir / "lhco_max_sic.png", "LHCO: CWoLa classifiers"))]
    histories = {}
    for fine_tuned in (True, False):
        gdir = generator_dir(runs_dir, fine_tuned)
        if (gdir / "generator.json").is_file():
            g = json.loads((gdir / "generator.json").read_text())
            histories[start_name(fine_tuned)] = {"loss": g["loss"], "val_loss": g["val_loss"]}
        if (gdir / SAMPLE_FILE).is_file() and (Path(data_dir) / "test.h5").is_file():
            test = ev.read_events(Path(data_dir) / "test.h5")
            true = _select(test, ev.signal_region_mask(test["mjj"]) & (test["label"] == 0))
            gen = ev.read_events(gdir / SAMPLE_FILE)
            # the generator saw at most P particles per jet: compare multiplicities capped alike
            true["jet"][..., 4] = np.minimum(true["jet"][..., 4], gen["data"].shape[2])
            path = plot_dir / f"lhco_{start_name(fine_tuned)}_distributions.png"
            written.append(
                str(plotting.plot_event_distributions(_observables(true), _observables(gen), path, gdir.name))
            )
    if histories:
        written.append(
            str(plotting.plot_losses({"LHCO generator (sidebands)": histories}, plot_dir / "lhco_generator_loss.png"))
        )
    return {"summary": summary, "plots": written}
