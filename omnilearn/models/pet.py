"""The PET body and its classifier and generator heads, as Keras functional models.

Shapes: B jets, P particles (padded), F particle features, D = ``projection_dim``, C classes.

* body:       (particles (B,P,F), mask (B,P), time (B,1))                  → (B,P,D)
* classifier: (body output (B,P,D), jet (B,4), mask (B,P))                 → {logits (B,C)[, regression (B,4)]}
* generator:  (body output (B,P,D), jet (B,4), label (B,C), time (B,1), mask (B,P)) → v (B,P,F)

The three are separate functional models, so the body is saved, loaded and reused under new
heads on its own (a "backbone" in KerasHub's words); :class:`omnilearn.models.OmniLearn`
calls them together.  Layer names are fixed so weights files map one to one.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from ..config import ModelConfig
from ..layers import activations
from ..layers.embedding import MLP, FeatureDrop, LayerDrop, Masked, ParticleBroadcast, ScaleShift, TimeEmbedding
from ..layers.local import EdgeConv
from ..layers.transformer import AttentionBlock, attention_bias, normalization


def _inputs(cfg: ModelConfig, *names: str) -> dict[str, keras.KerasTensor]:
    shapes = {
        "particles": (None, cfg.num_feat),
        "mask": (None,),
        "time": (1,),
        "jet": (cfg.num_jet,),
        "label": (cfg.num_classes,),
        "encoded": (None, cfg.projection_dim),
    }
    return {n: keras.Input(shape=shapes[n], name=n) for n in names}


def _upstream(cfg: ModelConfig) -> bool:
    return cfg.variant == "upstream"


def _block(cfg: ModelConfig, name: str, post_norm: bool) -> AttentionBlock:
    up = _upstream(cfg)
    return AttentionBlock(
        cfg.projection_dim,
        cfg.num_heads,
        layer_scale=cfg.layer_scale,
        layer_scale_init=cfg.layer_scale_init,
        dropout=cfg.dropout,
        post_norm=post_norm,
        norm="group" if up else "layer",
        masked=not up,
        recompute=cfg.recompute == "all",
        name=name,
    )


def _norm(cfg: ModelConfig, name: str) -> layers.Layer:
    return normalization("group" if _upstream(cfg) else "layer", name)


def _time_embedding(cfg: ModelConfig) -> TimeEmbedding:
    # the paper: every MLP is GELU; the authors' time MLPs are swish
    activation = "swish" if _upstream(cfg) else "gelu"
    return TimeEmbedding(cfg.projection_dim, cfg.num_fourier, activation=activation, name="time_embedding")


def build_body(cfg: ModelConfig, name: str = "pet_body") -> keras.Model:
    """PET body: feature drop → embedding → time scale/shift → + local DGCNN → transformer → + skip.

    The local (DGCNN) branch reads the particle features after the feature drop, so the PID
    flags are absent there too when dropped; its first kNN is in (Δη, Δφ), the second in the
    first layer's output space.

    Upstream variant (the authors' code): padded slots are not masked before the transformer
    (their embedding, local features and the skip connection are nonzero), the local branch
    reads the features before the feature drop with the authors' neighbourhood
    (:func:`~omnilearn.layers.local.knn_with_padding`), and the blocks are the authors'
    (GroupNorm over all slots, unmasked attention).
    """
    up = _upstream(cfg)
    inp = _inputs(cfg, "particles", "mask", "time")
    mask = inp["mask"]
    dim = cfg.projection_dim
    x = FeatureDrop(cfg.feature_drop, cfg.num_kinematic, name="feature_drop")(inp["particles"])
    h = MLP(2 * dim, dim, name="feature_embedding")(x)
    if not up:
        h = Masked(name="embed_mask")(h, mask)
    t = _time_embedding(cfg)(inp["time"])
    # no bias: the time embedding is zero at t = 0, so scale = shift = 0 and the modulation is
    # the identity there (the body is then the plain classifier body, paper Sec. II A)
    t = layers.Dense(2 * dim, activation=activations.gelu, use_bias=False, name="time_scale_shift")(t)
    h = ScaleShift(mask_output=not up, name="time_condition")(h, t, mask)
    if cfg.local:
        local = inp["particles"] if up else x
        points = local[..., :2]
        for i in range(cfg.num_local):
            conv = EdgeConv(dim, cfg.K, exclude_padding=not up, recompute=cfg.recompute != "none", name=f"local_{i}")
            local = conv(points, local, mask)
            points = local
        h = layers.Add(name="add_local")([h, local])
    skip = h
    bias = None if up else attention_bias(mask)  # once for all blocks
    for i in range(cfg.num_layers):
        block = _block(cfg, f"transformer_{i}", post_norm=False)
        h = Masked(name=f"mask_{i}")(block(h, h, mask, bias=bias), mask)
    out = layers.Add(name="add_skip")([h, skip])
    return keras.Model(inp, out, name=name)


def build_classifier(cfg: ModelConfig, name: str = "pet_classifier") -> keras.Model:
    """Classifier head: jet scale/shift, a class token updated by attention over the particles.

    Output: a dict with ``logits`` (B, C) and, with ``cfg.jet_regression``, ``regression``
    (B, num_jet), a linear map of the final class token (the authors' auxiliary output).

    The paper's jet embedding is described as an MLP; its published head size (268 k) leaves
    room for a single GELU layer producing the scale and shift, which is what is built here.
    Only the class token changes inside the head's transformer blocks.  Upstream variant: the
    jet scale/shift also reaches padded slots, and the class token is a constant zero (the
    authors' token variable is not tracked by their functional model, so it never trains).
    """
    up = _upstream(cfg)
    inp = _inputs(cfg, "encoded", "jet", "mask")
    mask = inp["mask"]
    dim = cfg.projection_dim
    jet = layers.Dense(2 * dim, activation=activations.gelu, name="jet_embedding")(inp["jet"])
    h = ScaleShift(name="jet_condition")(inp["encoded"], jet, None if up else mask)
    token = ClassToken(dim, learned=not up, name="class_token")(h)
    full_mask = ops.concatenate([ops.ones_like(mask[:, :1]), mask], axis=1)
    bias = None if up else attention_bias(full_mask)
    for i in range(cfg.num_class_layers):
        tokens = ops.concatenate([token, h], axis=1)
        block = _block(cfg, f"class_block_{i}", post_norm=True)
        token = block(tokens, token, full_mask, num_queries=1, bias=bias)
    token = _norm(cfg, "class_norm")(token)[:, 0]
    outputs = {"logits": layers.Dense(cfg.num_classes, name="class_output")(token)}
    if cfg.jet_regression:
        outputs["regression"] = layers.Dense(cfg.num_jet, name="jet_regression")(token)
    return keras.Model(inp, outputs, name=name)


def build_generator(cfg: ModelConfig, name: str = "pet_generator") -> keras.Model:
    """Generator head: a diffusion token that shifts the particle embeddings, predicting v.

    The condition is MLP(time embedding + jet embedding) + layer-dropped label embedding.  The
    label embedding has no bias, so an all-zero label is exactly the dropped (unconditional)
    case used for classifier-free guidance.  The token is updated by every block; the
    prediction is a projection of (body output + token).

    Upstream variant: jet embedding Dense(D, GELU), condition MLP(concat(time, jet)), a linear
    label embedding, no post-attention norm, the authors' blocks and a GroupNorm at the end.
    """
    up = _upstream(cfg)
    inp = _inputs(cfg, "encoded", "jet", "label", "time", "mask")
    mask = inp["mask"]
    dim = cfg.projection_dim
    t = _time_embedding(cfg)(inp["time"])
    if up:
        jet = layers.Dense(dim, activation=activations.gelu, name="jet_embedding")(inp["jet"])
        cond = MLP(2 * dim, dim, name="condition")(layers.Concatenate(name="concat_time_jet")([t, jet]))
        label = layers.Dense(dim, use_bias=False, name="label_embedding")(inp["label"])
    else:
        jet = MLP(2 * dim, dim, name="jet_embedding")(inp["jet"])
        cond = MLP(2 * dim, dim, name="condition")(layers.Add(name="add_time_jet")([t, jet]))
        label = layers.Dense(dim, activation=activations.gelu, use_bias=False, name="label_embedding")(inp["label"])
    label = LayerDrop(cfg.class_drop, name="label_drop")(label)
    cond = layers.Add(name="add_label")([cond, label])
    h = inp["encoded"]
    token = ParticleBroadcast(name="diffusion_token")(cond, mask)
    bias = None if up else attention_bias(mask)
    for i in range(cfg.num_gen_layers):
        summed = layers.Add(name=f"shift_{i}")([token, h])
        block = _block(cfg, f"gen_block_{i}", post_norm=not up)
        token = Masked(name=f"gen_mask_{i}")(block(summed, token, mask, bias=bias), mask)
    out = _norm(cfg, "gen_norm")(layers.Add(name="add_token")([h, token]))
    v = Masked(name="v_mask")(layers.Dense(cfg.num_feat, name="gen_output")(out), mask)
    return keras.Model(inp, v, name=name)


@keras.saving.register_keras_serializable("omnilearn")
class ClassToken(layers.Layer):
    """A (1, 1, dim) token, repeated for each jet of the batch: (B, P, D) → (B, 1, D).

    Trainable (zero-initialised) by default; ``learned=False`` gives a constant zero token
    without any weight (the authors' released model).
    """

    def __init__(self, dim: int, learned: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.learned = learned

    def build(self, input_shape):
        if self.learned:
            self.token = self.add_weight(name="token", shape=(1, 1, self.dim), initializer="zeros")

    def call(self, x):
        if not self.learned:
            return ops.zeros((ops.shape(x)[0], 1, self.dim), dtype=x.dtype)
        return ops.broadcast_to(ops.cast(self.token, x.dtype), (ops.shape(x)[0], 1, self.dim))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "learned": self.learned}
