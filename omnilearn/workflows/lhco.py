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
        events["data"] = events["data"][:, :, :num_particles]
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


def classify(
    data_dir: str | Path, outdir: str | Path, cfg: ClassifyConfig, progress: bool = True, write: bool = True
) -> dict:
    """Train one CWoLa classifier and evaluate it; writes ``outdir/results.json`` (``write``:
    rank 0 only) and returns the result."""
    import keras
    import tensorflow as tf

    from ..models.dijet import DijetClassifier
    from ..training.optimizers import make_optimizers

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
    train_cfg = TrainConfig(
        lr=cfg.lr,
        epoch=cfg.epochs,
        warm_epoch=min(cfg.warm_epoch, cfg.epochs),
        wd=cfg.wd,
        fine_tune=cfg.pretrained is not None,
    )
    head_opt, body_opt = make_optimizers(train_cfg, steps)
    model.compile(optimizer=head_opt, body_optimizer=body_opt)
    stop = keras.callbacks.EarlyStopping(patience=cfg.epochs, restore_best_weights=True)
    history = model.fit(
        dataset(train_idx, True),
        validation_data=dataset(val_idx, False),
        epochs=cfg.epochs,
        verbose=1 if progress else 0,
        callbacks=[stop],
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
