"""The two-jet (event) classifier of the anomaly-detection task (paper Sec. VIII).

Shapes: B events, 2 jets, P particles per jet, F features, D = ``projection_dim``.

* inputs: ``particles`` (B,2,P,F), ``mask`` (B,2,P), ``jet`` (B,2,4) normalised unified jets,
  ``mjj`` (B,1) scaled (:func:`omnilearn.data.events.scale_mjj`);
* the PET body runs on each jet alone (2B jets; particles of different jets never interact);
* the classifier head's jet scale/shift (per jet, as in the one-jet classifier), then an
  event scale/shift: each jet's kinematics and m_jj are embedded (MLP), the two embeddings
  interact (each jet's embedding gets an MLP of itself and the other jet's), and a Dense layer
  gives each jet's scale and shift. Swapping the two jets swaps the conditions, so the model
  stays permutation invariant;
* the particles of both jets are then one set of 2P particles for the head's class token and
  class-attention blocks, and its output layer gives two logits (background, signal).

The body and head layers are those of :func:`~omnilearn.models.pet.build_body` and
:func:`~omnilearn.models.pet.build_classifier`, so :meth:`load_pretrained` loads an OmniLearn
checkpoint into them (the output layer, whose class count differs, stays fresh). The event
scale/shift starts at zero (identity), so a pretrained start is the pretrained per-jet
representation. The paper says "jet embedding block"; the interaction and the zero start are
choices of ours. Every branch is trainable.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from ..config import ModelConfig
from ..layers.embedding import MLP, ScaleShift
from .losses import cross_entropy, weighted_mean
from .pet import build_body, build_classifier
from .split_optimizer import BodyHeadOptimizers

CLASSES = 2


@keras.saving.register_keras_serializable("omnilearn")
class DijetClassifier(BodyHeadOptimizers, keras.Model):
    """PET body per jet + m_jj-conditioned event scale/shift + one class-token head over both jets.

    ``compile(optimizer, body_optimizer=None)``: as :class:`~omnilearn.models.OmniLearn`, a
    second optimizer for the body (fine-tuning: 0.1x the heads' rate). Batches are dicts with
    the inputs above plus ``label`` (B,) 0/1 and ``weight`` (B,).
    """

    def __init__(self, config: ModelConfig | dict | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(config, dict):
            config = ModelConfig.from_dict(config)
        self.model_config = (config or ModelConfig()).replace(num_classes=CLASSES)
        cfg, dim = self.model_config, self.model_config.projection_dim
        self.body = build_body(cfg)
        self.classifier = build_classifier(cfg)
        self.event_embedding = MLP(2 * dim, dim, name="event_embedding")
        self.jet_interaction = MLP(2 * dim, dim, name="jet_interaction")
        self.event_condition = layers.Dense(2 * dim, kernel_initializer="zeros", name="event_condition")
        self.event_scale_shift = ScaleShift(name="event_scale_shift")
        self.has_ema = False
        self.body_optimizer = None
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")

    def logits(self, batch, training=False):
        """``(B, 2)`` logits of a batch (dict, see the class doc)."""
        x, mask, jet, mjj = (ops.convert_to_tensor(batch[k]) for k in ("particles", "mask", "jet", "mjj"))
        b, p, f = ops.shape(x)[0], ops.shape(x)[2], ops.shape(x)[3]
        dim = self.model_config.projection_dim
        xf, mf, jf = ops.reshape(x, (-1, p, f)), ops.reshape(mask, (-1, p)), ops.reshape(jet, (-1, jet.shape[-1]))
        time = ops.zeros((ops.shape(xf)[0], 1), dtype=xf.dtype)
        h = self.body({"particles": xf, "mask": mf, "time": time}, training=training)
        head = self.classifier
        h = head.get_layer("jet_condition")(h, head.get_layer("jet_embedding")(jf), mf)
        mjj2 = ops.repeat(ops.reshape(ops.cast(mjj, jet.dtype), (-1, 1, 1)), 2, axis=1)
        e = self.event_embedding(ops.concatenate([jet, mjj2], axis=-1))  # (B, 2, D)
        other = ops.flip(e, axis=1)  # each jet sees the other one
        e = e + self.jet_interaction(ops.concatenate([e, other], axis=-1))
        cond = ops.reshape(self.event_condition(e), (-1, 2 * dim))
        h = self.event_scale_shift(h, cond, mf)
        h = ops.reshape(h, (b, 2 * p, dim))
        m = ops.reshape(mask, (b, 2 * p))
        token = head.get_layer("class_token")(h)
        full_mask = ops.concatenate([ops.ones_like(m[:, :1]), m], axis=1)
        for i in range(self.model_config.num_class_layers):
            tokens = ops.concatenate([token, h], axis=1)
            token = head.get_layer(f"class_block_{i}")(tokens, token, full_mask, num_queries=1)
        token = head.get_layer("class_norm")(token)[:, 0]
        return ops.cast(head.get_layer("class_output")(token), "float32")

    def call(self, batch, training=False):
        """Signal probability ``(B,)`` (the anomaly score)."""
        return ops.softmax(self.logits(batch, training), axis=-1)[:, 1]

    def load_pretrained(self, directory) -> list[str]:
        """Load an OmniLearn checkpoint's body and classifier head (not its output layer)."""
        from . import checkpoint

        return checkpoint.load_pretrained(self, directory, parts=("body", "classifier"))

    # -- training ---------------------------------------------------------------------------
    def compute_loss_of(self, batch, training=False):
        label = ops.one_hot(ops.cast(batch["label"], "int32"), CLASSES)
        weight = batch.get("weight")
        logits = self.logits(batch, training)
        if weight is None:
            weight = ops.ones_like(logits[:, 0])
        return weighted_mean(cross_entropy(label, logits), ops.cast(weight, "float32")), logits, label

    def compile(self, optimizer="adam", body_optimizer=None, **kwargs):
        kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=optimizer, **kwargs)
        if not self.event_embedding.built:
            raise ValueError("call the model on a batch before compile (its event layers are built then)")
        self.build_optimizers(body_optimizer, self.body.trainable_variables, self._head_variables())

    def _head_variables(self):
        body = {id(v) for v in self.body.trainable_variables}
        return [v for v in self.trainable_variables if id(v) not in body]

    def train_step(self, batch):
        body_vars, head_vars = self.body.trainable_variables, self._head_variables()
        with tf.GradientTape() as tape:
            loss, logits, label = self.compute_loss_of(batch, training=True)
        self.apply_split(tape.gradient(loss, body_vars + head_vars), body_vars, head_vars)
        return self._update_metrics(loss, logits, label)

    def test_step(self, batch):
        loss, logits, label = self.compute_loss_of(batch)
        return self._update_metrics(loss, logits, label)

    def _update_metrics(self, loss, logits, label):
        self.loss_tracker.update_state(loss)
        self.accuracy.update_state(label, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy]

    def get_config(self):
        return {"config": self.model_config.to_dict()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
