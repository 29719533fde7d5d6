"""The speed-ups are exact: factorised edge convolution, padding trim, XLA with variable shapes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_batch

from omnilearn import benchmarks
from omnilearn.data.format import UnifiedWriter
from omnilearn.data.loader import JetLoader
from omnilearn.data.padding import trim_padding, trimmed_length
from omnilearn.layers import activations
from omnilearn.layers.local import EdgeConv, knn
from omnilearn.layers.transformer import BiasedAttention, attention_bias
from omnilearn.models import OmniLearn


def _edge_conv_reference(layer, points, features, mask):
    """DGCNN as written in the paper: the edge MLP on [x_i, x_j - x_i] for every edge, masked mean."""
    idx, valid = (np.asarray(a) for a in knn(points, mask, layer.k))
    b, p, f = features.shape
    padded = np.concatenate([features, np.zeros((b, layer.k, f), features.dtype)], axis=1)
    neighbours = np.take_along_axis(padded, idx.reshape(b, -1)[..., None], axis=1).reshape(b, p, layer.k, f)
    centre = np.broadcast_to(features[:, :, None], neighbours.shape)
    edges = np.asarray(layer.net(np.concatenate([centre, neighbours - centre], axis=-1)))
    pooled = (edges * valid[..., None]).sum(2) / np.maximum(valid.sum(2), 1.0)[..., None]
    return pooled * mask[..., None]


@pytest.mark.parametrize("num_features", [2, 13])
def test_edge_conv_equals_edge_mlp_on_every_edge(num_features):
    batch = random_batch(n=5, p=14, f=num_features, min_particles=1)  # some jets have fewer than k + 1
    x, mask = batch["particles"], batch["mask"]
    layer = EdgeConv(8, k=5)
    out = np.asarray(layer(x[..., :2], x, mask))
    ref = _edge_conv_reference(layer, x[..., :2], x, mask)
    assert np.abs(ref).max() > 1e-2  # not trivially zero
    np.testing.assert_allclose(out, ref, atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_lean_gelu_equals_tensorflows_exact_gelu(dtype):
    """Same values (bitwise) and gradients as tf.nn.gelu(approximate=False), over the tails too."""
    x = tf.cast(tf.constant(np.linspace(-12, 12, 2001), "float32"), dtype)
    dy = tf.cast(tf.constant(np.random.default_rng(0).normal(size=2001), "float32"), dtype)
    grads = []
    for fn in (activations.gelu, lambda v: tf.nn.gelu(v, approximate=False)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        grads.append(tape.gradient(y, x, output_gradients=dy))
        if len(grads) == 1:
            mine = y
    np.testing.assert_array_equal(np.asarray(tf.cast(mine, "float32")), np.asarray(tf.cast(y, "float32")))
    tol = 1e-6 if dtype == "float32" else 1e-2
    np.testing.assert_allclose(
        np.asarray(tf.cast(grads[0], "float32")), np.asarray(tf.cast(grads[1], "float32")), atol=tol, rtol=tol
    )
    assert activations.get("gelu") is activations.gelu and activations.get("swish") is keras.activations.swish


def test_fused_switches_gelu_to_tensorflows_own_while_tracing():
    """Inside ``fused()`` a traced GELU is TF's op chain (XLA can fuse it), outside the custom
    gradient (an IdentityN boundary); nesting restores the outer setting; the values agree."""

    def op_types():
        graph = tf.function(activations.gelu).get_concrete_function(tf.TensorSpec([8], "float32")).graph
        return {op.type for op in graph.get_operations()}

    assert "IdentityN" in op_types()
    with activations.fused():
        assert "IdentityN" not in op_types()
        with activations.fused(False):
            assert "IdentityN" in op_types()
        assert "IdentityN" not in op_types()
    assert "IdentityN" in op_types()
    x = tf.constant(np.linspace(-5, 5, 101), "float32")
    with activations.fused():
        fused_y = activations.gelu(x)
    np.testing.assert_array_equal(fused_y.numpy(), activations.gelu(x).numpy())


def test_attention_bias_equals_keras_boolean_mask():
    """BiasedAttention with the shared additive bias = Keras' MultiHeadAttention with a boolean
    (batch, queries, keys) mask and the same weights: outputs and gradients."""
    batch = random_batch(n=5, p=9, f=8, min_particles=1)
    x, mask = tf.constant(batch["particles"] + 0.1), tf.constant(batch["mask"])
    mine, ref = BiasedAttention(2, key_dim=4), keras.layers.MultiHeadAttention(2, key_dim=4)
    for layer in (mine, ref):
        layer.build(x.shape, x.shape, x.shape)
    mine.set_weights(ref.get_weights())
    assert [v.path.split("/", 1)[1] for v in mine.weights] == [v.path.split("/", 1)[1] for v in ref.weights]
    bool_mask = tf.cast(tf.broadcast_to(mask[:, None, :], (5, 9, 9)), "bool")
    outs, grads = [], []
    for call in (lambda: mine(x, x, bias=attention_bias(mask)), lambda: ref(x, x, x, attention_mask=bool_mask)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = call()
            loss = tf.reduce_sum(tf.sin(out) * mask[..., None])
        layer = mine if len(outs) == 0 else ref
        outs.append(np.asarray(out))
        grads.append([np.asarray(g) for g in tape.gradient(loss, [x, *layer.trainable_variables])])
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-6, rtol=1e-6)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-5)
    # padded keys matter without the bias: the test can tell the two apart
    assert np.abs(np.asarray(mine(x, x)) - outs[1]).max() > 1e-3


def test_trimmed_length_keeps_every_real_particle():
    rng = np.random.default_rng(0)
    for p, multiple in [(150, 16), (20, 8), (7, 16), (33, 1)]:
        for _ in range(5):
            mask = (rng.uniform(size=(4, p)) < rng.uniform(0, 0.6)).astype("float32")
            n = int(trimmed_length(mask, multiple))
            last = int(np.max(np.nonzero(mask.any(0))[0], initial=-1)) + 1
            assert n >= max(last, 1) and mask[:, n:].sum() == 0
            # rounded up to the multiple (or capped at P), and no longer than that
            assert n == p or n % multiple == 0
            assert n == min(p, max(multiple, -(-last // multiple) * multiple))
    with pytest.raises(ValueError, match="multiple"):
        trimmed_length(np.ones((2, 3), "float32"), 0)


def _losses_and_grads(model, batch, t, noise):
    with tf.GradientTape() as tape:
        losses, logits = model.compute_losses(batch, training=True, time=t, noise=noise)
        total = sum(losses.values())
    grads = tape.gradient(total, model.trainable_variables)
    return {k: float(v) for k, v in losses.items()}, np.asarray(logits), grads


def test_trimmed_batch_gives_the_same_losses_and_gradients(small_config):
    """Pretraining (mode all) on a trimmed batch: same three loss terms and gradients."""
    cfg = small_config.replace(feature_drop=0.0, class_drop=0.0)  # no randomness in the step
    model = OmniLearn(cfg, mode="all")
    batch = random_batch(n=8, p=10)
    full = {
        k: (np.pad(v, ((0, 0), (0, 30)) + ((0, 0),) * (v.ndim - 2)) if k in ("particles", "mask") else v)
        for k, v in batch.items()
    }
    rng = np.random.default_rng(3)
    t = rng.uniform(size=(8, 1)).astype("float32")
    noise = rng.normal(size=full["particles"].shape).astype("float32")
    trimmed = trim_padding({k: tf.constant(v) for k, v in full.items()}, 16)
    assert trimmed["particles"].shape[1] == 16
    ref = _losses_and_grads(model, full, t, noise)
    out = _losses_and_grads(model, trimmed, t, noise[:, :16])
    for name in ("class_loss", "gen_loss", "smear_loss"):
        assert out[0][name] == pytest.approx(ref[0][name], rel=1e-5, abs=1e-7), name
    np.testing.assert_allclose(out[1], ref[1], atol=1e-5)
    for g_out, g_ref, var in zip(out[2], ref[2], model.trainable_variables):
        assert (g_out is None) == (g_ref is None), var.path
        if g_ref is None:
            continue
        g_out, g_ref = np.asarray(g_out), np.asarray(g_ref)
        np.testing.assert_allclose(g_out, g_ref, atol=1e-5 * max(1.0, np.abs(g_ref).max()), err_msg=var.path)


def test_optimised_training_matches_reference_path(small_config):
    """XLA on trimmed batches of varying length vs the plain graph step on full padding: same weights."""
    cfg = small_config.replace(feature_drop=0.0)
    batches = [random_batch(n=8, p=30, seed=s) for s in range(3)]
    for b, p in zip(batches, (5, 12, 30)):  # three different trimmed lengths (8, 16, 30)
        b["mask"][:, p:] = 0
        b["particles"][:, p:] = 0
    data = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    init = OmniLearn(cfg, mode="classifier").get_weights()
    weights = []
    for trim, jit in ((0, False), (8, True)):
        ds = tf.data.Dataset.from_tensor_slices(data).batch(8)
        if trim:
            ds = ds.map(lambda b, trim=trim: trim_padding(b, trim))
        model = OmniLearn(cfg, mode="classifier")
        model.set_weights(init)
        model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=jit)  # LION's sign() amplifies float noise
        model.fit(ds, epochs=2, verbose=0, shuffle=False)
        weights.append(model.get_weights())
    # float32 noise of XLA's fusions after 6 steps is ~1e-6 (seen on an AVX-512 host); a wrong
    # trim or mask would change the updates, which reach ~1e-2, by their own size
    assert max(np.abs(b - w0).max() for b, w0 in zip(weights[1], init)) > 1e-3
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_optimised_inference_matches_reference_path(small_config):
    """Classifier inference as benchmarked: XLA on trimmed batches vs plain graph on full padding."""
    batches = [random_batch(n=8, p=40, seed=s) for s in range(3)]
    for b, p in zip(batches, (5, 12, 30)):  # three different trimmed lengths
        b["mask"][:, p:] = 0
        b["particles"][:, p:] = 0
    ref = OmniLearn(small_config, mode="classifier")
    fast = OmniLearn(small_config, mode="classifier")
    fast.set_weights(ref.get_weights())
    ref.compile(jit_compile=False)
    fast.compile(jit_compile=True)
    for b in batches:
        trimmed = trim_padding({k: tf.constant(v) for k, v in b.items()}, 8)
        assert trimmed["particles"].shape[1] < 40
        want = np.asarray(ref.predict_on_batch(b))
        got = np.asarray(fast.predict_on_batch(trimmed))
        assert np.ptp(want, axis=0).max() > 1e-4  # jets get different outputs
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-5)


def test_loader_trims_padding_exactly(tmp_path):
    rng = np.random.default_rng(0)
    data, jet, pid = benchmarks.synthetic_chunk(rng, 300, 120, num_classes=3)
    path = tmp_path / "jets.h5"
    with UnifiedWriter(path, 120, ["a", "b", "c"]) as w:
        w.append(data, jet, pid)
    plain = list(JetLoader(path, 64, shuffle=False))
    trimmed = list(JetLoader(path, 64, shuffle=False, trim_padding=8))
    assert len(plain) == len(trimmed) == 5
    lengths = set()
    for a, b in zip(plain, trimmed):
        n = b["particles"].shape[1]
        lengths.add(n)
        assert n == 120 or n % 8 == 0
        np.testing.assert_array_equal(b["particles"], a["particles"][:, :n])
        np.testing.assert_array_equal(b["mask"], a["mask"][:, :n])
        assert np.all(a["mask"][:, n:] == 0)
        for key in ("jet", "label", "weight"):
            np.testing.assert_array_equal(b[key], a[key])
    assert min(lengths) < 120  # something was trimmed
    with pytest.raises(ValueError, match="trim_padding"):
        JetLoader(path, 64, trim_padding=-1)


def test_peak_rss_sees_a_new_allocation_after_a_reset():
    benchmarks.reset_peak_rss()
    before = benchmarks.peak_rss()
    block = np.ones(64 * 2**20, np.uint8)  # 64 MiB, touched
    assert benchmarks.peak_rss() - before > 0.05
    del block


def test_bucketed_loader_reads_every_jet_once_in_batches_of_similar_multiplicity(tmp_path):
    rng = np.random.default_rng(1)
    data, jet, pid = benchmarks.synthetic_chunk(rng, 2000, 120, num_classes=3)
    jet[:, 0] = np.arange(2000)  # tag each jet by its pT
    path = tmp_path / "jets.h5"
    with UnifiedWriter(path, 120, ["a", "b", "c"]) as w:
        w.append(data, jet, pid)
    common = dict(seed=2, chunk_size=256, shuffle_buffer=512, trim_padding=16)
    spread, length = {}, {}
    # (shuffle, bucket): plain, random buckets (training), sorted buckets (inference)
    settings = ((True, False), (True, True), (False, True))
    for shuffle, bucket in settings:
        loader = JetLoader(path, 64, shuffle=shuffle, bucket=bucket, **common)
        batches = list(loader)
        ids = (
            np.concatenate([b["jet"][:, 0] for b in batches]) * loader.normalization.jet_std[0]
            + loader.normalization.jet_mean[0]
        )
        np.testing.assert_allclose(np.sort(ids), np.arange(2000), atol=0.5)  # every jet exactly once
        full = batches[:-1]  # the last batch holds the leftovers
        spread[shuffle, bucket] = np.mean([np.ptp(np.asarray(b["mask"]).sum(1)) for b in full])
        length[shuffle, bucket] = np.mean([b["mask"].shape[1] for b in full])
        if not shuffle:  # deterministic: the same batches again
            again = list(JetLoader(path, 64, shuffle=False, bucket=True, **common))
            assert all(np.array_equal(a["jet"], b["jet"]) for a, b in zip(batches, again))
    for bucketed in settings[1:]:
        assert spread[bucketed] < 0.25 * spread[True, False]
        assert length[bucketed] < 0.75 * length[True, False]


def test_benchmark_inputs_follow_the_issue_spec():
    """Generated benchmark jets: multiplicity ~Gamma(mean 40, sd 16) padded to P, zero padding, one-hot labels."""
    batches = benchmarks.synthetic_batches(2, 256, num_particles=150, num_classes=10)
    mask = np.concatenate([b["mask"] for b in batches])
    mult = mask.sum(1)
    assert abs(mult.mean() - 40) < 2 and abs(mult.std() - 16) < 2
    many = benchmarks.multiplicities(np.random.default_rng(1), 100_000, 150)
    skew = np.mean((many - many.mean()) ** 3) / many.std() ** 3
    assert abs(many.mean() - 40) < 0.3 and abs(many.std() - 16) < 0.3
    assert abs(skew - 0.8) < 0.1  # a Gamma's 2/sqrt(shape), not a normal's 0
    assert many.min() >= 1 and many.max() <= 150
    x = np.concatenate([b["particles"] for b in batches])
    assert x.shape == (512, 150, 13) and np.all(x[mask == 0] == 0)
    assert np.all(np.concatenate([b["label"] for b in batches]).sum(1) == 1)


def test_mixed_precision_flag_is_close_to_float32(small_config):
    """bfloat16 compute (a GPU option, not exact): same weights give nearby losses; policy restored."""
    cfg = small_config.replace(feature_drop=0.0, class_drop=0.0)
    ref = OmniLearn(cfg, mode="all")
    mixed = OmniLearn(cfg, mode="all", mixed_precision=True)
    assert keras.config.dtype_policy().name == "float32"
    assert mixed.body.get_layer("transformer_0").compute_dtype == "bfloat16"
    mixed.set_weights(ref.get_weights())
    batch = random_batch(n=16, p=12)
    rng = np.random.default_rng(0)
    t = rng.uniform(size=(16, 1)).astype("float32")
    noise = rng.normal(size=batch["particles"].shape).astype("float32")
    want, _, _ = _losses_and_grads(ref, batch, t, noise)
    got, logits, grads = _losses_and_grads(mixed, batch, t, noise)
    assert logits.dtype == np.float32
    for name in want:
        assert got[name] == pytest.approx(want[name], rel=0.05), name
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads if g is not None)


def test_recomputed_layers_give_the_same_gradients(small_config):
    """recompute 'local' and 'all' (tf.recompute_grad) vs storing everything: same losses, gradients."""
    cfg = small_config.replace(feature_drop=0.0, class_drop=0.0)
    batch = random_batch(n=6, p=14)
    rng = np.random.default_rng(5)
    t = rng.uniform(size=(6, 1)).astype("float32")
    noise = rng.normal(size=batch["particles"].shape).astype("float32")
    ref_model = OmniLearn(cfg.replace(recompute="none"), mode="all")
    ref = _losses_and_grads(ref_model, batch, t, noise)
    for recompute in ("local", "all"):
        model = OmniLearn(cfg.replace(recompute=recompute), mode="all")
        model.set_weights(ref_model.get_weights())
        assert model.body.get_layer("local_0").recompute
        assert model.body.get_layer("transformer_0").recompute == (recompute == "all")
        out = _losses_and_grads(model, batch, t, noise)
        assert out[0] == ref[0]
        for g_out, g_ref, var in zip(out[2], ref[2], model.trainable_variables):
            g_out, g_ref = np.asarray(g_out), np.asarray(g_ref)
            np.testing.assert_allclose(g_out, g_ref, atol=1e-6 * max(1.0, np.abs(g_ref).max()), err_msg=var.path)
    with pytest.raises(ValueError, match="dropout"):
        cfg.replace(recompute="all", dropout=0.1)


def _one_step(cfg, init, data, accum, optimizers, jit, mode="all"):
    model = OmniLearn(cfg, mode=mode, seed=7)
    model.set_weights(init)
    head, body = optimizers()
    model.compile(optimizer=head, body_optimizer=body, accum_steps=accum, jit_compile=jit)
    logs = model.fit(tf.data.Dataset.from_tensor_slices(data).batch(10), epochs=1, verbose=0, shuffle=False)
    return model.get_weights(), {k: v[-1] for k, v in logs.history.items()}


def test_gradient_accumulation_gives_the_full_batch_gradients(small_config):
    """Mode all, a batch of 10 as 4 micro-batches of 3 (the last: 1 jet + 2 of weight 0): the
    same loss terms and gradients as the whole batch, with the same random draws."""
    cfg = small_config.replace(feature_drop=0.0, class_drop=0.0, ema=0.0)
    batch = random_batch(n=10, p=12, seed=4)
    ref_model, model = OmniLearn(cfg, seed=7), OmniLearn(cfg, seed=7)
    model.set_weights(ref_model.get_weights())
    variables = ref_model.trainable_variables
    with tf.GradientTape() as tape:
        ref_losses, _ = ref_model.compute_losses(batch, training=True)
        ref_total = sum(ref_losses.values())
    ref_grads = tape.gradient(ref_total, variables)
    total, losses, grads = model.accumulated_gradients(batch, model.trainable_variables, 4)
    assert float(total) == pytest.approx(float(ref_total), rel=1e-6)
    for name in ref_losses:
        assert float(losses[name]) == pytest.approx(float(ref_losses[name]), rel=1e-6), name
    for g, g_ref, var in zip(grads, ref_grads, variables):
        assert (g is None) == (g_ref is None), var.path
        if g_ref is not None:
            g, g_ref = np.asarray(g), np.asarray(g_ref)
            np.testing.assert_allclose(g, g_ref, atol=1e-6 * max(1.0, np.abs(g_ref).max()), err_msg=var.path)
    with pytest.raises(ValueError, match="accum_steps"):
        OmniLearn(cfg).compile(optimizer="sgd", accum_steps=0)


def test_gradient_accumulation_gives_the_full_batch_lion_step(small_config):
    """Training with accum_steps=3 through fit: the LION update of fine-tuning (body and head
    optimizers) and the logged loss and accuracy of one step on the whole batch."""
    cfg = small_config.replace(feature_drop=0.0, ema=0.0)
    data = random_batch(n=10, p=12, seed=6)
    init = OmniLearn(cfg, mode="classifier").get_weights()
    lion = lambda: (keras.optimizers.Lion(1e-3, 0.95, 0.99), keras.optimizers.Lion(1e-4, 0.95, 0.99))  # noqa: E731
    (full, full_logs), (acc, acc_logs) = (_one_step(cfg, init, data, n, lion, False, "classifier") for n in (1, 3))
    for name in ("loss", "class_loss", "accuracy"):
        assert acc_logs[name] == pytest.approx(full_logs[name], rel=1e-5), name
    steps = np.concatenate([(w - w0).ravel() for w, w0 in zip(full, init)])
    flipped = np.concatenate([(a != b).ravel() for a, b in zip(acc, full)])
    sizes = np.abs(steps[steps != 0])
    near = [np.isclose(sizes, rate, rtol=0.05) for rate in (1e-3, 1e-4)]  # sign steps of both rates
    assert np.all(near[0] | near[1]) and near[0].any() and near[1].any()
    # LION's sign() may flip only where a gradient component is ~0; a wrong sum flips many
    assert flipped.mean() < 2e-3


@pytest.mark.slow
def test_gradient_accumulation_under_xla(small_config):
    """The accumulation loop compiles with XLA (static micro-batch shapes) and gives the plain
    graph's update (classifier mode: XLA draws other random numbers than the plain graph)."""
    cfg = small_config.replace(feature_drop=0.0, ema=0.0)
    data = random_batch(n=20, p=12, seed=6)
    init = OmniLearn(cfg, mode="classifier").get_weights()
    sgd = lambda: (keras.optimizers.SGD(0.5), None)  # noqa: E731
    full, _ = _one_step(cfg, init, data, 1, sgd, jit=False, mode="classifier")
    acc, _ = _one_step(cfg, init, data, 4, sgd, jit=True, mode="classifier")
    for a, b in zip(acc, full):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_benchmark_num_particles_sets_the_particle_axis(tmp_path):
    """The model flag --num_particles cuts the jets as --particles does, for files and generated jets."""
    from argparse import Namespace

    path = tmp_path / "jets.h5"
    with UnifiedWriter(path, 40, ["a", "b"]) as w:
        w.append(*benchmarks.synthetic_chunk(np.random.default_rng(0), 64, 40, num_classes=2))
    for data in ([str(path)], None):
        args = Namespace(data=data, batch=8, particles=40, num_particles=16, distinct=1, bucket=False)
        dataset, _ = benchmarks._inputs(args, trim=0, num_classes=2)
        assert next(iter(dataset))["particles"].shape[1] == 16
