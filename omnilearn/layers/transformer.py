"""Transformer block with LayerScale, shared by the PET body and both heads."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from . import activations


@keras.saving.register_keras_serializable("omnilearn")
class LayerScale(layers.Layer):
    """Learnable per-channel factor on a residual branch (Touvron et al. 2021), init 1e-5 in PET."""

    def __init__(self, init_value: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.init_value = init_value

    def build(self, input_shape):
        self.gamma = self.add_weight(
            name="gamma", shape=(input_shape[-1],), initializer=keras.initializers.Constant(self.init_value)
        )

    def call(self, x):
        return x * self.gamma

    def get_config(self):
        return {**super().get_config(), "init_value": self.init_value}


#: Bias of padded keys: softmax weight exp(-1e9) = 0, as Keras' mask gives, with no overflow.
_MASKED = -1e9


def attention_bias(mask):
    """Additive attention bias ``(batch, 1, 1, keys)``: 0 for real keys, -1e9 for padded ones.

    Computed once per batch and shared by every block; it broadcasts over heads and queries, so
    no ``(batch, heads, queries, keys)`` boolean mask is built (and kept for the backward pass)
    in each layer.
    """
    return ((1.0 - ops.cast(mask, "float32")) * _MASKED)[:, None, None, :]


@keras.saving.register_keras_serializable("omnilearn")
class BiasedAttention(layers.MultiHeadAttention):
    """Keras' ``MultiHeadAttention`` (same weights and names) with an additive key bias.

    ``call(query, value, bias=None)``: keys = values = ``value``; ``bias`` from
    :func:`attention_bias`.  The bias is added to the scaled logits, which leaves the real keys'
    logits unchanged and gives the padded ones softmax weight exactly 0: the same outputs and
    gradients as Keras' boolean ``attention_mask`` (whenever a jet has a real particle).
    """

    def call(self, query, value, bias=None, training=None):
        q = self._query_dense(query)
        k = self._key_dense(value)
        v = self._value_dense(value)
        out = ops.dot_product_attention(q, k, v, bias=bias, scale=self._inverse_sqrt_key_dim)
        return self._output_dense(out)


def normalization(kind: str, name: str) -> layers.Layer:
    """``"layer"``: per-token LayerNorm (ε = 1e-6); ``"group"``: the authors' GroupNormalization
    with one group, i.e. per jet over every token slot and channel, padding included (ε = 1e-3)."""
    if kind == "layer":
        return layers.LayerNormalization(epsilon=1e-6, name=name)
    if kind == "group":
        return layers.GroupNormalization(groups=1, epsilon=1e-3, name=name)
    raise ValueError(f"norm must be 'layer' or 'group', got {kind!r}")


@keras.saving.register_keras_serializable("omnilearn")
class AttentionBlock(layers.Layer):
    """Pre-norm multi-head attention + GELU MLP, each residual branch scaled by LayerScale.

    ``call(x, residual, mask, num_queries=None, bias=None)``:

    * ``x`` (batch, tokens, dim) is normalised and attended over (keys = values = all tokens,
      padded ones hidden by ``mask`` (batch, tokens), through ``bias`` =
      :func:`attention_bias` of it, which callers compute once for all blocks);
    * queries are all tokens, or only the first ``num_queries`` (the classifier's class token);
    * the attention output is added to ``residual`` (batch, queries, dim), then the MLP branch.

    The body uses ``residual = x``; the heads pass their token as the residual and set
    ``post_norm`` (an extra normalisation of the attention output), as in the paper's Fig. 1.
    Layer normalisation acts per token, so padded particles never mix into real ones.

    ``norm="group", masked=False`` is the authors' block: one GroupNorm over all tokens, padding
    included, attention without a mask, and (when every token is a query) the LayerScale'd
    updates multiplied by the mask.  Its output depends on the padding length.

    ``recompute``: the backward pass recomputes the block (``tf.recompute_grad``) instead of
    keeping its activations; same gradients (without dropout), less memory, more compute.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        layer_scale: bool = True,
        layer_scale_init: float = 1e-5,
        dropout: float = 0.0,
        post_norm: bool = False,
        mlp_ratio: int = 2,
        norm: str = "layer",
        masked: bool = True,
        recompute: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dim = dim
        self.num_heads = num_heads
        self.layer_scale = layer_scale
        self.layer_scale_init = layer_scale_init
        self.dropout = dropout
        self.post_norm = post_norm
        self.mlp_ratio = mlp_ratio
        self.norm = norm
        self.masked = masked
        self.recompute = recompute
        self.norm_in = normalization(norm, "norm_in")
        self.attention = BiasedAttention(num_heads, key_dim=dim // num_heads, name="attention")
        self.norm_attn = normalization(norm, "norm_attn") if post_norm else None
        self.norm_mlp = normalization(norm, "norm_mlp")
        self.mlp_in = layers.Dense(mlp_ratio * dim, activation=activations.gelu, name="mlp_in")
        self.mlp_drop = layers.Dropout(dropout)
        self.mlp_out = layers.Dense(dim, name="mlp_out")
        self.scale_attn = LayerScale(layer_scale_init, name="scale_attn") if layer_scale else None
        self.scale_mlp = LayerScale(layer_scale_init, name="scale_mlp") if layer_scale else None

    def build(self, x_shape, residual_shape=None, mask_shape=None, bias_shape=None):
        shape = (None, None, self.dim)
        self.norm_in.build(shape)
        self.attention.build(shape, shape, shape)
        for layer in (self.norm_attn, self.norm_mlp, self.scale_attn, self.scale_mlp):
            if layer is not None:
                layer.build(shape)
        self.mlp_in.build(shape)
        self.mlp_out.build((None, None, self.mlp_ratio * self.dim))

    def call(self, x, residual, mask, num_queries=None, bias=None, training=None):
        if not self.masked:
            bias = None
        elif bias is None:
            bias = attention_bias(mask)
        if bias is None:
            bias = ops.zeros((), "float32")  # recompute_grad takes tensors only
        forward = lambda *a: self._forward(*a, num_queries=num_queries, training=training)  # noqa: E731
        if self.recompute:
            forward = tf.recompute_grad(forward)
        return forward(x, residual, mask, bias)

    def _forward(self, x, residual, mask, bias, num_queries=None, training=None):
        normed = self.norm_in(x)
        query = normed if num_queries is None else normed[:, :num_queries]
        bias = bias if self.masked else None
        update = self.attention(query, normed, bias=bias, training=training)
        # the authors zero the padded rows of each LayerScale'd update (not of the class token)
        update_mask = None if self.masked or num_queries is not None else ops.cast(mask, update.dtype)[..., None]
        if self.norm_attn is not None:
            update = self.norm_attn(update)
        if self.scale_attn is not None:
            update = self.scale_attn(update)
            if update_mask is not None:
                update = update * update_mask
        x2 = residual + update
        update = self.mlp_out(self.mlp_drop(self.mlp_in(self.norm_mlp(x2)), training=training))
        if self.scale_mlp is not None:
            update = self.scale_mlp(update)
            if update_mask is not None:
                update = update * update_mask
        return x2 + update

    def compute_output_shape(self, x_shape, residual_shape=None, mask_shape=None, bias_shape=None):
        return residual_shape

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "num_heads": self.num_heads,
            "layer_scale": self.layer_scale,
            "layer_scale_init": self.layer_scale_init,
            "dropout": self.dropout,
            "post_norm": self.post_norm,
            "mlp_ratio": self.mlp_ratio,
            "norm": self.norm,
            "masked": self.masked,
            "recompute": self.recompute,
        }
