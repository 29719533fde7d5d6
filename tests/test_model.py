"""PET body and heads: sizes, symmetries, masking and the loss against a hand computation."""

import math

import numpy as np
import pytest
from conftest import random_batch

from omnilearn.config import ModelConfig
from omnilearn.layers.embedding import FeatureDrop, LayerDrop, TimeEmbedding
from omnilearn.models import OmniLearn, build_body, build_classifier, build_generator
from omnilearn.models.diffusion import perturb, predict_x0_eps


def test_parameter_counts_match_paper():
    """Paper Sec. II E: body 1.3 M, classifier head 268 k, generator head 416 k (within 5 %)."""
    cfg = ModelConfig()
    counts = {
        "body": build_body(cfg).count_params(),
        "classifier": build_classifier(cfg).count_params(),
        "generator": build_generator(cfg).count_params(),
    }
    for part, paper in {"body": 1.3e6, "classifier": 268e3, "generator": 416e3}.items():
        assert abs(counts[part] / paper - 1) < 0.05, (part, counts[part])


def _run(model, batch, t=0.3):
    n = len(batch["mask"])
    time = np.full((n, 1), t, "float32")
    logits = np.asarray(model.classify(batch))
    v = np.asarray(model.velocity(batch["particles"], batch["mask"], batch["jet"], batch["label"], time))
    return logits, v


def test_shapes(small_config):
    model = OmniLearn(small_config)
    batch = random_batch()
    logits, v = _run(model, batch)
    assert logits.shape == (6, 3)
    assert v.shape == batch["particles"].shape
    probs = np.asarray(model(batch))
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)


def test_time_embedding_is_zero_at_t0():
    layer = TimeEmbedding(16, num_fourier=16)
    out0 = np.asarray(layer(np.zeros((3, 1), "float32")))
    out1 = np.asarray(layer(np.full((3, 1), 0.5, "float32")))
    assert np.all(out0 == 0.0)
    assert np.abs(out1).max() > 1e-3


def test_permutation_invariance_and_equivariance(small_config):
    """Shuffling particles (real and padded, interleaved) leaves logits fixed and permutes v."""
    model = OmniLearn(small_config)
    batch = random_batch()
    perm = np.random.default_rng(1).permutation(batch["mask"].shape[1])
    shuffled = dict(batch, particles=batch["particles"][:, perm], mask=batch["mask"][:, perm])
    logits, v = _run(model, batch)
    logits_p, v_p = _run(model, shuffled)
    np.testing.assert_allclose(logits_p, logits, atol=1e-5)
    np.testing.assert_allclose(v_p, v[:, perm], atol=1e-5)


def test_padding_invariance(small_config):
    """Extra zero-padded particles change neither the logits nor v on the real particles."""
    model = OmniLearn(small_config)
    batch = random_batch(min_particles=1)  # includes jets with fewer particles than k
    extra = 9
    padded = dict(
        batch,
        particles=np.pad(batch["particles"], ((0, 0), (0, extra), (0, 0))),
        mask=np.pad(batch["mask"], ((0, 0), (0, extra))),
    )
    logits, v = _run(model, batch)
    logits_p, v_p = _run(model, padded)
    np.testing.assert_allclose(logits_p, logits, atol=1e-5)
    np.testing.assert_allclose(v_p[:, : v.shape[1]], v, atol=1e-5)
    assert np.all(v_p[:, v.shape[1]:] == 0)


def test_feature_drop_zeroes_pid_of_whole_jets():
    x = np.random.default_rng(0).normal(size=(2000, 5, 13)).astype("float32")
    layer = FeatureDrop(0.2, start=7, seed=3)
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    out = np.asarray(layer(x, training=True))
    np.testing.assert_array_equal(out[..., :7], x[..., :7])
    dropped = np.all(out[..., 7:] == 0, axis=(1, 2))
    kept = np.all(out[..., 7:] == x[..., 7:], axis=(1, 2))
    assert np.all(dropped | kept)
    assert 0.15 < dropped.mean() < 0.25


def test_layer_drop_rate():
    x = np.ones((4000, 8), "float32")
    out = np.asarray(LayerDrop(0.1, seed=2)(x, training=True))
    dropped = np.all(out == 0, axis=1)
    assert np.all(dropped | np.all(out == 1, axis=1))
    assert 0.07 < dropped.mean() < 0.13


def test_zero_label_is_the_dropped_label(small_config):
    """An all-zero label gives the same v as a label dropped by the layer drop (guidance)."""
    model = OmniLearn(small_config.replace(class_drop=1.0, feature_drop=0.0))
    batch = random_batch()
    t = np.full((6, 1), 0.4, "float32")
    args = (batch["particles"], batch["mask"], batch["jet"])
    dropped = np.asarray(model.velocity(*args, batch["label"], t, training=True))
    zero = np.asarray(model.velocity(*args, np.zeros_like(batch["label"]), t))
    np.testing.assert_allclose(dropped, zero, atol=1e-6)


def test_diffusion_inversion_recovers_data_and_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 3)).astype("float32")
    eps = rng.normal(size=x.shape).astype("float32")
    mask = np.ones((4, 6), "float32")
    t = rng.uniform(size=(4, 1)).astype("float32")
    x_t, v = perturb(x, t, eps, mask)
    x0, e0 = predict_x0_eps(x_t, v, t)
    np.testing.assert_allclose(np.asarray(x0), x, atol=1e-5)
    np.testing.assert_allclose(np.asarray(e0), eps, atol=1e-5)


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_each_loss_term_against_hand_computation(small_config):
    model = OmniLearn(small_config, mode="all")
    batch = random_batch()
    x, mask, jet, y, w = (batch[k] for k in ("particles", "mask", "jet", "label", "weight"))
    rng = np.random.default_rng(5)
    t = rng.uniform(size=(6, 1)).astype("float32")
    eps = rng.normal(size=x.shape).astype("float32")
    losses, logits = model.compute_losses(batch, time=t, noise=eps)

    ce = -(y * _log_softmax(np.asarray(model.classify(batch)))).sum(-1)
    assert float(losses["class_loss"]) == pytest.approx(np.mean(w * ce), rel=1e-5)

    alpha, sigma = np.cos(math.pi * t / 2)[:, :, None], np.sin(math.pi * t / 2)[:, :, None]
    m = mask[..., None]
    x_t = (alpha * x + sigma * eps) * m
    v = (alpha * eps - sigma * x) * m
    v_pred = np.asarray(model.velocity(x_t, mask, jet, y, t))
    per_jet = ((v - v_pred) ** 2 * m).sum((1, 2)) / (mask.sum(1) * x.shape[-1])
    assert float(losses["gen_loss"]) == pytest.approx(np.mean(w * per_jet), rel=1e-5)

    encoded = model.encode(x_t, mask, t)
    smeared = np.asarray(model.classifier({"encoded": np.asarray(encoded), "jet": jet, "mask": mask}))
    ce_s = -(y * _log_softmax(smeared)).sum(-1)
    expected = np.mean(w * alpha[:, 0, 0] ** 2 * ce_s)
    assert float(losses["smear_loss"]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("mode,terms", [("classifier", {"class_loss"}), ("generator", {"gen_loss"}),
                                        ("all", {"class_loss", "gen_loss", "smear_loss"})])
def test_modes_select_loss_terms(small_config, mode, terms):
    losses, _ = OmniLearn(small_config, mode=mode).compute_losses(random_batch())
    assert set(losses) == terms
