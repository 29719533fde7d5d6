"""PET body and heads: sizes, symmetries, masking and the loss against a hand computation."""

import math

import numpy as np
import pytest
from conftest import random_batch

from omnilearn.config import ModelConfig
from omnilearn.layers.embedding import FeatureDrop, LayerDrop, TimeEmbedding
from omnilearn.models import OmniLearn, build_body, build_classifier, build_generator
from omnilearn.models.diffusion import perturb, predict_x0_eps


def _counts(cfg: ModelConfig) -> dict[str, int]:
    return {
        "body": build_body(cfg).count_params(),
        "classifier": build_classifier(cfg).count_params(),
        "generator": build_generator(cfg).count_params(),
    }


def test_parameter_counts_match_paper():
    """Paper Sec. II E: body 1.3 M, classifier head 268 k, generator head 416 k (within 5 %);
    the exact numbers are those of docs/architecture.md."""
    counts = _counts(ModelConfig())
    for part, paper in {"body": 1.3e6, "classifier": 268e3, "generator": 416e3}.items():
        assert abs(counts[part] / paper - 1) < 0.05, (part, counts[part])
    assert counts == {"body": 1_318_784, "classifier": 268_938, "generator": 418_445}


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
    assert np.all(v_p[:, v.shape[1] :] == 0)


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
    # not vacuous: the label does change v when it is not dropped
    kept = np.asarray(model.velocity(*args, batch["label"], t, training=False))
    assert np.abs(kept - zero).max() > 1e-4


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


@pytest.mark.parametrize("num_diffusion", [3, 13])
def test_each_loss_term_against_hand_computation(small_config, num_diffusion):
    """Eq. 2 with the diffused features (num_diffusion = 3: Δη, Δφ, log(1 − pT/pT,jet), our
    columns 0, 1, 4; 13: all) and the jet-regression terms."""
    model = OmniLearn(small_config.replace(num_diffusion=num_diffusion, jet_regression=True), mode="all")
    batch = random_batch()
    x, mask, jet, y, w = (batch[k] for k in ("particles", "mask", "jet", "label", "weight"))
    rng = np.random.default_rng(5)
    t = rng.uniform(size=(6, 1)).astype("float32")
    eps = rng.normal(size=x.shape).astype("float32")
    losses, logits = model.compute_losses(batch, time=t, noise=eps)

    clean = model.classify(batch, outputs=True)
    ce = -(y * _log_softmax(np.asarray(clean["logits"]))).sum(-1)
    assert float(losses["class_loss"]) == pytest.approx(np.mean(w * ce), rel=1e-5)
    mse = ((jet - np.asarray(clean["regression"])) ** 2).mean(-1)
    assert float(losses["reg_loss"]) == pytest.approx(np.mean(w * mse), rel=1e-5)

    diffused = np.zeros(13, "float32")
    diffused[[0, 1, 4] if num_diffusion == 3 else slice(None)] = 1.0
    alpha, sigma = np.cos(math.pi * t / 2)[:, :, None], np.sin(math.pi * t / 2)[:, :, None]
    m = mask[..., None] * diffused
    x_t = (alpha * x + sigma * eps) * m
    v = (alpha * eps - sigma * x) * m
    v_pred = np.asarray(model.velocity(x_t, mask, jet, y, t))
    per_jet = ((v - v_pred) ** 2 * m).sum((1, 2)) / (mask.sum(1) * num_diffusion)
    assert float(losses["gen_loss"]) == pytest.approx(np.mean(w * per_jet), rel=1e-5)

    encoded = model.encode(x_t, mask, t)
    smeared = model.head_outputs(encoded, jet, mask)
    ce_s = -(y * _log_softmax(np.asarray(smeared["logits"]))).sum(-1)
    a2 = alpha[:, 0, 0] ** 2
    assert float(losses["smear_loss"]) == pytest.approx(np.mean(w * a2 * ce_s), rel=1e-5)
    mse_s = ((jet - np.asarray(smeared["regression"])) ** 2).mean(-1)
    assert float(losses["smear_reg_loss"]) == pytest.approx(np.mean(w * a2 * mse_s), rel=1e-5)


@pytest.mark.parametrize(
    "mode,terms",
    [("classifier", {"class_loss"}), ("generator", {"gen_loss"}), ("all", {"class_loss", "gen_loss", "smear_loss"})],
)
def test_modes_select_loss_terms(small_config, mode, terms):
    """The paper's terms; --jet_regression adds its two terms in mode all only (as the authors)."""
    losses, _ = OmniLearn(small_config, mode=mode).compute_losses(random_batch())
    assert set(losses) == terms
    model = OmniLearn(small_config.replace(jet_regression=True), mode=mode)
    losses, _ = model.compute_losses(random_batch())
    extra = {"reg_loss", "smear_reg_loss"} if mode == "all" else set()
    assert set(losses) == terms | extra
    # the regression output is trained only where its loss is
    names = {v.path.split("/")[0] for v in model.head_variables()}
    assert ("jet_regression" in names) == (mode == "all")


def test_body_at_t0_is_the_body_without_time_path(small_config):
    """At t = 0 the time scale/shift is the identity: the same output as with the time path cut
    (its scale/shift kernel zeroed, which removes it at every t)."""
    model = OmniLearn(small_config)
    batch = random_batch()
    x, mask = batch["particles"], batch["mask"]
    zero, later = np.zeros((6, 1), "float32"), np.full((6, 1), 0.7, "float32")
    at_t0 = np.asarray(model.encode(x, mask, zero))
    with_time = np.asarray(model.encode(x, mask, later))
    layer = model.body.get_layer("time_scale_shift")
    assert not layer.use_bias
    layer.kernel.assign(np.zeros(layer.kernel.shape, "float32"))
    no_time = np.asarray(model.encode(x, mask, later))
    np.testing.assert_array_equal(at_t0, no_time)
    assert np.abs(with_time - at_t0).max() > 1e-4  # not vacuous: time does modulate the body


def _write_unified(path, data, jet, norm=None):
    from omnilearn.data.format import UnifiedWriter

    with UnifiedWriter(path, data.shape[1], ["a", "b"], normalization=norm) as w:
        w.append(data, jet, np.zeros(len(data), np.int32))
    return w.normalization


def test_missing_pid_is_the_dropped_pid(tmp_path):
    """A jet without PID (raw zeros) and the same jet with PID, feature-dropped, give the same
    body input, with the statistics of a dataset that has PID (a pretrained normalisation)."""
    from omnilearn.data.loader import JetLoader

    rng = np.random.default_rng(0)
    n, p = 8, 10
    mask = np.arange(p)[None, :] < rng.integers(3, p + 1, n)[:, None]
    data = np.zeros((n, p, 13), np.float32)
    data[..., :7] = rng.normal(1.0, 2.0, (n, p, 7))
    data[..., 7] = rng.choice([-1.0, 0.0, 1.0], (n, p))
    np.put_along_axis(data, rng.integers(8, 13, (n, p, 1)), 1.0, axis=-1)
    data[~mask] = 0.0
    jet = rng.normal(size=(n, 4)).astype(np.float32)
    norm = _write_unified(tmp_path / "pid.h5", data, jet)
    assert np.any(data[..., 7:][mask].mean(0) > 0.1)  # not vacuous: flags with nonzero means
    no_pid = data.copy()
    no_pid[..., 7:] = 0.0
    _write_unified(tmp_path / "nopid.h5", no_pid, jet, norm)

    def body_input(path, drop):
        batch = next(iter(JetLoader(path, n, shuffle=False, normalization=norm)))
        return np.asarray(FeatureDrop(drop, start=7)(batch["particles"], training=True))

    dropped = body_input(tmp_path / "pid.h5", 1.0)
    missing = body_input(tmp_path / "nopid.h5", 0.0)
    np.testing.assert_array_equal(dropped, missing)
    assert np.all(missing[..., 7:] == 0.0)


def test_ema_copies_follow_the_weights_and_are_saved(small_config, tmp_path):
    """After a training step each EMA weight is 0.999 e + 0.001 w; checkpoints keep the copies."""
    import keras

    model = OmniLearn(small_config, mode="all", seed=0)
    assert model.has_ema and small_config.ema == 0.999
    pairs = list(model._ema_pairs())
    assert all(np.array_equal(np.asarray(w), np.asarray(e)) for w, e in pairs)  # start: the weights
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [np.asarray(e).copy() for _, e in pairs]
    model.train_step(random_batch())
    for (w, e), b in zip(pairs, before):
        np.testing.assert_allclose(np.asarray(e), 0.999 * b + 0.001 * np.asarray(w), atol=1e-7, err_msg=e.path)
    assert not all(np.array_equal(np.asarray(w), np.asarray(e)) for w, e in pairs)
    model.save_checkpoint(tmp_path / "ckpt")
    loaded = OmniLearn.from_checkpoint(tmp_path / "ckpt")
    for (_, e), (_, f) in zip(pairs, loaded._ema_pairs()):
        np.testing.assert_array_equal(np.asarray(e), np.asarray(f))
    assert not OmniLearn(small_config.replace(ema=0.0)).has_ema


def test_sampler_uses_the_ema_copies_and_only_diffused_features(small_config):
    from omnilearn.generation.sampler import sample_particles

    model = OmniLearn(small_config, mode="generator")
    for w, e in model._ema_pairs():  # make the copies differ from the weights
        e.assign(np.asarray(w) * 1.1)
    batch = random_batch()
    args = (batch["jet"], batch["label"], batch["mask"])
    kw = dict(steps=4, seed=3, batch_size=6, progress=False)
    default = sample_particles(model, *args, **kw)
    np.testing.assert_array_equal(default, sample_particles(model, *args, ema=True, **kw))
    assert np.abs(default - sample_particles(model, *args, ema=False, **kw)).max() > 1e-4
    # num_diffusion = 3: Δη, Δφ and log(1 − pT/pT,jet) (columns 0, 1, 4) are sampled, the rest is 0
    real = batch["mask"] == 1
    assert np.all(default[..., [2, 3, 5, 6, 7, 8, 9, 10, 11, 12]] == 0)
    assert np.all(np.abs(default[real][:, [0, 1, 4]]) > 0)


def test_training_option_flags():
    from omnilearn.cli.flags import ArgumentParser, add_model_args, model_config

    parser = ArgumentParser()
    add_model_args(parser)
    parser.add_argument("--mode", default="all")
    defaults = model_config(parser.parse_args([]))
    assert (defaults.num_diffusion, defaults.ema, defaults.jet_regression) == (3, 0.999, False)
    cfg = model_config(parser.parse_args(["--num_diffusion", "13", "--ema", "0", "--jet_regression"]))
    assert (cfg.num_diffusion, cfg.ema, cfg.jet_regression) == (13, 0.0, True)
    with pytest.raises(SystemExit):
        parser.parse_args(["--ema", "1"])
