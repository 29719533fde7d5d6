"""The OmniLearn model: PET body + classifier and generator heads, trained jointly.

L = CE(y, ŷ(x)) + ‖v − v̂(x̂, t)‖² + α(t)² CE(y, ŷ(x̂, t))   (paper Eq. 2)

with t ~ U(0, 1) per jet, x̂ = α x + σ ε and v = α ε − σ x (``diffusion.py``).  Modes:
``classifier`` (first term only: the PET classifier and all classification fine-tunes),
``generator`` (second term only) and ``all`` (pretraining).

Options of the authors' code that the paper does not mention (:class:`~omnilearn.config.ModelConfig`):
only ``num_diffusion`` features are diffused (x̂ and v are zero on the others, and the loss
averages over the diffused ones); with ``jet_regression``, mode ``all`` adds the jet regression
MSE(jet, ĵ(x)) + α(t)² MSE(jet, ĵ(x̂, t)); with ``ema`` > 0 the model keeps exponential moving
averages of the body and generator head (``ema_body``, ``ema_generator``), updated after every
training step, saved in checkpoints and used by the sampler.

Batches are dicts: ``particles`` (B,P,F), ``mask`` (B,P), ``jet`` (B,4), ``label`` (B,C)
one-hot and ``weight`` (B,), as produced by :mod:`omnilearn.data.loader`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from ..config import MODES, ModelConfig
from ..layers import activations
from .diffusion import alpha_sigma, feature_mask, perturb
from .losses import cross_entropy, jet_error, velocity_error, weighted_mean
from .pet import build_body, build_classifier, build_generator
from .split_optimizer import BodyHeadOptimizers

LOSS_TERMS = ("class_loss", "gen_loss", "smear_loss", "reg_loss", "smear_reg_loss")


@keras.saving.register_keras_serializable("omnilearn")
class OmniLearn(BodyHeadOptimizers, keras.Model):
    """Body and heads under one ``keras.Model`` with a custom ``train_step``.

    ``compile(optimizer=..., body_optimizer=...)`` takes a second optimizer for the body, so
    that fine-tuning can give the body 0.1x the heads' learning rate (LION's update size does
    not depend on the gradient scale, so this needs its own optimizer).  Without it one
    optimizer updates everything.

    ``model(batch)`` returns class probabilities for clean jets (t = 0).

    ``mixed_precision=True`` builds the body and heads under Keras' ``mixed_bfloat16`` policy
    (bfloat16 compute, float32 weights; for GPUs, not exact); losses stay in float32.
    """

    def __init__(
        self,
        config: ModelConfig | dict | None = None,
        mode: str = "all",
        seed: int | None = None,
        mixed_precision: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(config, dict):
            config = ModelConfig.from_dict(config)
        self.model_config = config or ModelConfig()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.mixed_precision = bool(mixed_precision)
        previous = keras.config.dtype_policy()
        if self.mixed_precision:
            keras.config.set_dtype_policy("mixed_bfloat16")
        try:
            self.body = build_body(self.model_config)
            self.classifier = build_classifier(self.model_config)
            self.generator = build_generator(self.model_config)
            self.ema_body = self.ema_generator = None
            if self.model_config.ema > 0:
                self.ema_body = build_body(self.model_config, name="ema_pet_body")
                self.ema_generator = build_generator(self.model_config, name="ema_pet_generator")
                for part in (self.ema_body, self.ema_generator):
                    part.trainable = False
        finally:
            keras.config.set_dtype_policy(previous)
        self.diffused = feature_mask(self.model_config.num_feat, self.model_config.num_diffusion)
        self.reset_ema()
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss",) + LOSS_TERMS}
        self.accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")
        self.body_optimizer = None
        self.accum_steps = 1

    # -- EMA copies ----------------------------------------------------------------------
    @property
    def has_ema(self) -> bool:
        return self.ema_body is not None

    def _ema_pairs(self):
        for part, ema in ((self.body, self.ema_body), (self.generator, self.ema_generator)):
            yield from zip(part.weights, ema.weights)

    def reset_ema(self) -> None:
        """Set the EMA copies to the current weights (at construction and when a pretrained
        model without EMA copies is loaded)."""
        if self.has_ema:
            for w, e in self._ema_pairs():
                e.assign(w)

    def update_ema(self) -> None:
        """One EMA step, ``e ← d e + (1 − d) w`` with d = ``ema``, after each optimizer step."""
        if self.has_ema:
            decay = self.model_config.ema
            for w, e in self._ema_pairs():
                e.assign(decay * e + (1.0 - decay) * ops.cast(w, e.dtype))

    # -- forward passes -------------------------------------------------------------------
    def encode(self, particles, mask, time, training=False, ema=False):
        """Body output ``(B, P, D)`` (``ema``: of the EMA copy)."""
        particles, mask, time = (ops.convert_to_tensor(a) for a in (particles, mask, time))
        body = self.ema_body if ema else self.body
        return body({"particles": particles, "mask": mask, "time": time}, training=training)

    def head_outputs(self, encoded, jet, mask, training=False) -> dict:
        """The classifier head on a body output: ``logits`` (B, C) and, with
        ``jet_regression``, ``regression`` (B, num_jet), in float32."""
        encoded, jet, mask = (ops.convert_to_tensor(a) for a in (encoded, jet, mask))
        out = self.classifier({"encoded": encoded, "jet": jet, "mask": mask}, training=training)
        return {k: ops.cast(v, "float32") for k, v in out.items()}

    def classify(self, batch, training=False, outputs: bool = False):
        """Logits ``(B, C)`` of clean jets (t = 0); ``outputs=True``: the dict of :meth:`head_outputs`."""
        particles, mask, jet = (ops.convert_to_tensor(batch[k]) for k in ("particles", "mask", "jet"))
        time = ops.zeros((ops.shape(particles)[0], 1), dtype=particles.dtype)
        encoded = self.encode(particles, mask, time, training)
        out = self.head_outputs(encoded, jet, mask, training)
        return out if outputs else out["logits"]

    def velocity(self, particles, mask, jet, label, time, training=False, ema=False):
        """Predicted v ``(B, P, F)`` for noised particles at time ``time`` ``(B, 1)``, every
        feature as the head outputs it (only the diffused ones are trained); ``ema``: by the
        EMA copies of the body and generator head."""
        if ema and not self.has_ema:
            raise ValueError("this model keeps no EMA copies (ModelConfig.ema = 0)")
        particles, mask, jet, label, time = (ops.convert_to_tensor(a) for a in (particles, mask, jet, label, time))
        encoded = self.encode(particles, mask, time, training, ema=ema)
        generator = self.ema_generator if ema else self.generator
        v = generator({"encoded": encoded, "jet": jet, "label": label, "time": time, "mask": mask}, training=training)
        return ops.cast(v, "float32")

    def call(self, batch, training=False):
        return ops.softmax(self.classify(batch, training), axis=-1)

    # -- loss -----------------------------------------------------------------------------
    def compute_losses(self, batch, training=False, time=None, noise=None):
        """The loss terms of the current mode as batch averages, and the clean logits (or None).

        ``time`` (B, 1) and ``noise`` (B, P, F) are drawn here unless given (tests fix them).
        """
        x, mask, jet, label = (ops.convert_to_tensor(batch[k]) for k in ("particles", "mask", "jet", "label"))
        weight = batch.get("weight")
        if weight is None:
            weight = ops.ones((ops.shape(x)[0],), dtype=x.dtype)
        weight = ops.convert_to_tensor(weight)
        losses, logits = {}, None
        regression = self.model_config.jet_regression and self.mode == "all"
        if self.mode in ("classifier", "all"):
            clean = self.classify(batch, training, outputs=True)
            logits = clean["logits"]
            losses["class_loss"] = weighted_mean(cross_entropy(label, logits), weight)
            if regression:
                losses["reg_loss"] = weighted_mean(jet_error(jet, clean["regression"]), weight)
        if self.mode in ("generator", "all"):
            batch_size = ops.shape(x)[0]
            t = (
                time
                if time is not None
                else keras.random.uniform((batch_size, 1), seed=self.seed_generator, dtype=x.dtype)
            )
            if noise is None:
                noise = keras.random.normal(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
            t, noise = ops.convert_to_tensor(t), ops.convert_to_tensor(noise)
            x_t, v = perturb(x, t, noise, mask, self.diffused)
            encoded = self.encode(x_t, mask, t, training)
            v_pred = ops.cast(
                self.generator(
                    {"encoded": encoded, "jet": jet, "label": label, "time": t, "mask": mask}, training=training
                ),
                "float32",
            )
            losses["gen_loss"] = weighted_mean(velocity_error(v, v_pred, mask, self.diffused), weight)
            if self.mode == "all":
                smeared = self.head_outputs(encoded, jet, mask, training)
                alpha2 = ops.square(alpha_sigma(t[:, 0])[0])
                losses["smear_loss"] = weighted_mean(alpha2 * cross_entropy(label, smeared["logits"]), weight)
                if regression:
                    losses["smear_reg_loss"] = weighted_mean(alpha2 * jet_error(jet, smeared["regression"]), weight)
        return losses, logits

    # -- Keras hooks ----------------------------------------------------------------------
    def head_variables(self) -> list:
        """Trainable head variables that the current mode's loss depends on (the jet regression
        output only in mode ``all``, the one whose loss has its term)."""
        heads = {
            "classifier": [self.classifier],
            "generator": [self.generator],
            "all": [self.classifier, self.generator],
        }
        skip = set()
        if self.model_config.jet_regression and self.mode != "all":
            skip = {id(v) for v in self.classifier.get_layer("jet_regression").trainable_variables}
        return [v for head in heads[self.mode] for v in head.trainable_variables if id(v) not in skip]

    def compile(self, optimizer="adam", body_optimizer=None, accum_steps: int = 1, **kwargs):
        """Keras' ``compile`` with a second optimizer for the body (see the class docstring) and
        ``accum_steps``: each training batch runs as that many micro-batches whose gradients are
        summed before one optimizer step (:meth:`accumulated_gradients`)."""
        if int(accum_steps) < 1:
            raise ValueError(f"accum_steps must be >= 1, got {accum_steps}")
        kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=optimizer, **kwargs)
        self.accum_steps = int(accum_steps)
        self.build_optimizers(body_optimizer, self.body.trainable_variables, self.head_variables())

    def reduce_gradients(self, grads: list) -> list:
        """Hook for data-parallel training (averages gradients over workers); identity here."""
        return grads

    def reduce_metric(self, value):
        """Hook for data-parallel training (averages metrics over workers); identity here."""
        return value

    def accumulated_gradients(self, batch, variables: list, steps: int):
        """``(total, losses, grads)`` of the whole ``batch``, computed on ``steps`` micro-batches.

        The loss terms are batch means (``mean(weight * per_jet)``), so the sum over micro-batches
        of each micro-batch's mean times its share of the batch is the batch's mean, and the same
        holds for the gradients: one optimizer step with them is the full batch's step.  The
        diffusion time and noise are drawn for the whole batch first, as the full step draws them
        (the same numbers for the same seed); the feature and label drops are drawn per
        micro-batch.  Micro-batches have ceil(B / steps) rows (static shapes under XLA); the rows
        past the end of the batch repeat its last jet with weight 0.  The accuracy metric is
        updated here, per micro-batch.
        """
        x = ops.convert_to_tensor(batch["particles"])
        size = tf.shape(x)[0]
        micro = (size + steps - 1) // steps
        count = (size + micro - 1) // micro
        draws = {}
        if self.mode in ("generator", "all"):
            draws["time"] = keras.random.uniform((size, 1), seed=self.seed_generator, dtype=x.dtype)
            draws["noise"] = keras.random.normal(tf.shape(x), seed=self.seed_generator, dtype=x.dtype)
        weight = batch.get("weight")
        weight = ops.ones((size,), dtype=x.dtype) if weight is None else ops.convert_to_tensor(weight)
        arrays = {**{k: ops.convert_to_tensor(v) for k, v in batch.items()}, "weight": weight}

        def micro_step(i):
            rows = i * micro + tf.range(micro)
            valid = tf.cast(rows < size, x.dtype)
            rows = tf.minimum(rows, size - 1)
            part = {k: tf.gather(v, rows) for k, v in arrays.items()}
            part["weight"] = part["weight"] * valid
            extra = {k: tf.gather(v, rows) for k, v in draws.items()}
            share = tf.cast(micro, "float32") / tf.cast(size, "float32")
            with tf.GradientTape() as tape:
                losses, logits = self.compute_losses(part, training=True, **extra)
                losses = {k: v * share for k, v in losses.items()}
                total = ops.sum(ops.stack(list(losses.values())))
            grads = tape.gradient(total, variables)
            if logits is not None:
                self.accuracy.update_state(part["label"], logits, sample_weight=valid)
            return total, losses, grads

        # Every micro-batch runs inside the loop, so XLA keeps one micro-batch's buffers (a first
        # one traced outside it doubled them).  The accumulators cover every loss term and every
        # variable; the body records, when traced, which terms exist and which variables get a
        # gradient, and those without one get None back, as in the full step (the optimizer
        # skips them; LION's weight decay would otherwise move them).
        present, connected = [], []

        def body(i, total, terms, grads):
            t, losses, g = micro_step(i)
            present[:] = list(losses)
            connected[:] = [gi is not None for gi in g]
            terms = [a + losses[k] if k in losses else a for a, k in zip(terms, LOSS_TERMS)]
            grads = [a if gi is None else a + tf.cast(tf.convert_to_tensor(gi), a.dtype) for a, gi in zip(grads, g)]
            return i + 1, total + t, terms, grads

        zero = tf.zeros((), "float32")
        start = (tf.constant(0), zero, [zero for _ in LOSS_TERMS], [tf.zeros_like(v) for v in variables])
        _, total, terms, grads = tf.while_loop(lambda i, *_: i < count, body, start, parallel_iterations=1)
        losses = {k: v for k, v in zip(LOSS_TERMS, terms) if k in present}
        return total, losses, [g if c else None for g, c in zip(grads, connected)]

    def train_step(self, batch):
        # the lean GELU gradient only where TF runs op by op (see layers.activations)
        with activations.fused(self.jit_compile is True):
            return self._train_step(batch)

    def _train_step(self, batch):
        body_vars = self.body.trainable_variables
        head_vars = self.head_variables()
        steps = getattr(self, "accum_steps", 1)
        if steps > 1:
            total, losses, grads = self.accumulated_gradients(batch, body_vars + head_vars, steps)
            logits = None  # accuracy already updated per micro-batch
        else:
            with tf.GradientTape() as tape:
                losses, logits = self.compute_losses(batch, training=True)
                total = ops.sum(ops.stack(list(losses.values())))
            grads = tape.gradient(total, body_vars + head_vars)
        self.apply_split(self.reduce_gradients(grads), body_vars, head_vars)
        self.update_ema()
        counted = steps > 1 and self.mode != "generator"
        return self._update_metrics(total, losses, logits, batch, accuracy_counted=counted)

    def test_step(self, batch):
        with activations.fused():  # no gradient: nothing for the lean GELU to save
            losses, logits = self.compute_losses(batch, training=False)
        total = ops.sum(ops.stack(list(losses.values())))
        return self._update_metrics(total, losses, logits, batch)

    def predict_step(self, data):
        with activations.fused():
            return super().predict_step(data)

    def _update_metrics(self, total, losses, logits, batch, accuracy_counted: bool = False):
        shown = [self.trackers["loss"]] + [self.trackers[name] for name in losses]
        for tracker, value in zip(shown, [total, *losses.values()]):
            tracker.update_state(self.reduce_metric(value))
        if logits is not None:
            self.accuracy.update_state(batch["label"], logits)
        if logits is not None or accuracy_counted:
            shown.append(self.accuracy)
        return {m.name: m.result() for m in shown}

    @property
    def metrics(self):
        return list(self.trackers.values()) + [self.accuracy]

    def get_config(self):
        return {"config": self.model_config.to_dict(), "mode": self.mode, "mixed_precision": self.mixed_precision}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_checkpoint(cls, directory, mode: str | None = None, **config_changes) -> OmniLearn:
        """The model saved at ``directory`` (e.g. ``runs/pretrain/best``) with all its weights,
        in ``mode`` (default: the mode it was saved in); ``config_changes`` replace fields of
        its :class:`~omnilearn.config.ModelConfig` (e.g. ``feature_drop=0.0``)."""
        from . import checkpoint

        meta = checkpoint.read_meta(directory)
        model = cls(ModelConfig.from_dict(meta["model"]).replace(**config_changes), mode=mode or meta["mode"])
        checkpoint.load_pretrained(model, directory)
        return model

    def load_pretrained(self, directory, parts: tuple[str, ...] = ("body", "classifier", "generator")) -> list[str]:
        """Load a pretrained checkpoint's body and heads into this model (a head whose class
        count differs keeps its fresh output layer / label embedding); returns the parts loaded."""
        from . import checkpoint

        return checkpoint.load_pretrained(self, directory, parts)

    def save_checkpoint(self, directory, **meta):
        """Write this model as a checkpoint directory (atomically); ``meta``: ``normalization``,
        ``classes``, ``epoch``, ``best``, ``data``, ``train`` (see :func:`omnilearn.models.checkpoint.save`)."""
        from . import checkpoint

        return checkpoint.save(self, directory, **meta)
