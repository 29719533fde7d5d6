"""The jet-level diffusion model: jet pT, η, mass and multiplicity given the class.

The paper (Sec. VI) follows the two-model strategy of FPCD (arXiv:2304.01266): a small model
learns the jet kinematics and particle multiplicity per class, always from scratch, and its
samples condition the particle generator. Here it is a residual GELU MLP trained with the same
v-prediction loss and cosine schedule as the generator head (:mod:`omnilearn.models.diffusion`),
with the same time embedding and a layer-dropped, bias-free class embedding (so classifier-free
guidance works the same way). The width and depth are choices of this package (the paper gives
none). Inputs are standardised with the training jets' mean and standard deviation; the
sampled multiplicity is rounded and clipped to 1 … P.

A trained model is a directory: ``jet_model.weights.h5`` and ``jet_model.json`` (configuration,
classes, normalisation).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from ..layers.embedding import LayerDrop, TimeEmbedding
from ..models.diffusion import perturb
from .sampler import DEFAULT_SOLVER, DEFAULT_STEPS, guided, integrate

WEIGHTS, META = "jet_model.weights.h5", "jet_model.json"


@keras.saving.register_keras_serializable("omnilearn")
class JetDiffusion(keras.Model):
    """v̂(x_t, t, label) for jet features x ``(B, F)``; ``train_step`` draws t ~ U(0, 1) and ε."""

    def __init__(
        self,
        num_jet: int = 4,
        num_classes: int = 5,
        width: int = 128,
        num_blocks: int = 3,
        class_drop: float = 0.1,
        num_fourier: int = 32,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_jet, self.num_classes, self.width = num_jet, num_classes, width
        self.num_blocks, self.class_drop, self.num_fourier = num_blocks, class_drop, num_fourier
        self.time_embedding = TimeEmbedding(width, num_fourier, name="time_embedding")
        self.label_embedding = layers.Dense(width, activation="gelu", use_bias=False, name="label_embedding")
        self.label_drop = LayerDrop(class_drop, seed=seed, name="label_drop")
        self.inp = layers.Dense(width, name="input")
        self.blocks = [
            (
                layers.LayerNormalization(epsilon=1e-6, name=f"norm_{i}"),
                layers.Dense(2 * width, activation="gelu", name=f"hidden_{i}"),
                layers.Dense(width, name=f"out_{i}"),
            )
            for i in range(num_blocks)
        ]
        self.out = layers.Dense(num_jet, name="output")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, inputs, training=False):
        x, t, label = inputs["x"], inputs["time"], inputs["label"]
        cond = self.time_embedding(t) + self.label_drop(self.label_embedding(label), training=training)
        h = self.inp(x) + cond
        for norm, hidden, out in self.blocks:
            h = h + out(hidden(norm(h) + cond))
        return self.out(h)

    def compute_loss_terms(self, batch, training=False):
        x, label = batch["x"], batch["label"]
        t = keras.random.uniform((ops.shape(x)[0], 1), seed=self.seed_generator, dtype=x.dtype)
        noise = keras.random.normal(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
        ones = ops.ones((ops.shape(x)[0], 1), dtype=x.dtype)
        x_t, v = perturb(x[:, None, :], t, noise[:, None, :], ones)
        v_pred = self({"x": x_t[:, 0], "time": t, "label": label}, training=training)
        return ops.mean(ops.square(v[:, 0] - v_pred))

    def train_step(self, batch):
        with tf.GradientTape() as tape:
            loss = self.compute_loss_terms(batch, training=True)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, batch):
        self.loss_tracker.update_state(self.compute_loss_terms(batch))
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]

    def get_config(self):
        return {
            "num_jet": self.num_jet,
            "num_classes": self.num_classes,
            "width": self.width,
            "num_blocks": self.num_blocks,
            "class_drop": self.class_drop,
            "num_fourier": self.num_fourier,
        }

    def build_all(self) -> JetDiffusion:
        self({"x": ops.zeros((1, self.num_jet)), "time": ops.zeros((1, 1)), "label": ops.zeros((1, self.num_classes))})
        return self


def _dataset(x, label, batch, shuffle, seed):
    ds = tf.data.Dataset.from_tensor_slices({"x": x, "label": label})
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch).prefetch(tf.data.AUTOTUNE)


def train_jet_model(
    jets: np.ndarray,
    pid: np.ndarray,
    classes: tuple[str, ...],
    outdir: str | os.PathLike,
    *,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = 100,
    batch: int = 256,
    lr: float = 1e-3,
    width: int = 128,
    num_blocks: int = 3,
    seed: int = 0,
    verbose: int | str = "auto",
) -> tuple[JetDiffusion, dict]:
    """Fit the jet model on physical jets ``(N, 4)`` and labels ``pid`` ``(N,)``; save to ``outdir``.

    Adam with a cosine-decayed learning rate; the weights of the epoch with the lowest
    validation (else training) loss are kept.
    """
    jets = np.asarray(jets, np.float64)
    if jets.ndim != 2 or len(jets) != len(pid) or len(jets) == 0:
        raise ValueError(f"need jets (N, F) and pid (N,), got {jets.shape} and {np.shape(pid)}")
    mean, std = jets.mean(0), jets.std(0)
    std = np.where(std > 1e-8, std, 1.0)
    meta = {"config": None, "classes": list(classes), "mean": mean.tolist(), "std": std.tolist()}
    eye = np.eye(len(classes), dtype=np.float32)

    def prep(x, y):
        return ((np.asarray(x) - mean) / std).astype(np.float32), eye[np.asarray(y, int)]

    keras.utils.set_random_seed(seed)
    model = JetDiffusion(jets.shape[1], len(classes), width, num_blocks, seed=seed).build_all()
    meta["config"] = model.get_config()
    train = _dataset(*prep(jets, pid), batch, True, seed)
    steps = math.ceil(len(jets) / batch) * epochs
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.01)))
    val_ds = _dataset(*prep(*val), batch, False, seed) if val is not None and len(val[0]) else None
    monitor = "val_loss" if val_ds is not None else "loss"
    history = model.fit(
        train,
        validation_data=val_ds,
        epochs=epochs,
        verbose=verbose,
        callbacks=[keras.callbacks.EarlyStopping(monitor=monitor, patience=epochs, restore_best_weights=True)],
    )
    save_jet_model(model, outdir, meta)
    return model, history.history


def save_jet_model(model: JetDiffusion, outdir: str | os.PathLike, meta: dict) -> Path:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = outdir / (WEIGHTS + ".tmp.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, outdir / WEIGHTS)
    (outdir / META).write_text(json.dumps(meta, indent=2))
    return outdir


def load_jet_model(directory: str | os.PathLike) -> tuple[JetDiffusion, dict]:
    directory = Path(directory)
    if not (directory / META).exists() or not (directory / WEIGHTS).exists():
        raise FileNotFoundError(f"no jet model at {directory} (expected {META} and {WEIGHTS})")
    meta = json.loads((directory / META).read_text())
    model = JetDiffusion(**meta["config"]).build_all()
    model.load_weights(directory / WEIGHTS)
    return model, meta


def sample_jets(
    model: JetDiffusion,
    meta: dict,
    pid: np.ndarray,
    *,
    max_particles: int,
    steps: int = DEFAULT_STEPS,
    guidance: float = 0.0,
    solver: str = DEFAULT_SOLVER,
    seed: int = 0,
    batch_size: int = 4096,
) -> np.ndarray:
    """Physical jets ``(N, 4)`` (pT, η, mass, multiplicity) for the class labels ``pid``.

    The multiplicity is rounded and clipped to ``1 … max_particles``; the mass to >= 0.
    """
    pid = np.asarray(pid, int)
    eye = np.eye(len(meta["classes"]), dtype=np.float32)
    mean, std = np.asarray(meta["mean"]), np.asarray(meta["std"])
    rng = np.random.default_rng(seed)
    out = []
    for a in range(0, len(pid), batch_size):
        label = eye[pid[a : a + batch_size]]
        noise = rng.standard_normal((len(label), 1, model.num_jet)).astype(np.float32)
        ones = np.ones((len(label), 1), np.float32)
        velocity = guided(lambda x, t, lab: model({"x": x[:, 0], "time": t, "label": lab})[:, None], label, guidance)
        out.append(integrate(velocity, noise, ones, steps, solver).numpy()[:, 0])
    jets = np.concatenate(out) * std + mean if out else np.zeros((0, model.num_jet))
    jets[:, 2] = np.clip(jets[:, 2], 0.0, None)
    jets[:, 3] = np.clip(np.rint(jets[:, 3]), 1, max_particles)
    return jets.astype(np.float32)
