"""Sampler algebra, the jet-level model and the JetNet generation metrics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorflow as tf

from omnilearn.evaluation import generation as gm
from omnilearn.generation.sampler import guided, integrate, sample_particles, time_grid
from omnilearn.models.diffusion import alpha_sigma


def _masked_data(n=8, p=10, f=5, seed=0):
    rng = np.random.default_rng(seed)
    mult = rng.integers(1, p + 1, n)
    mask = (np.arange(p)[None] < mult[:, None]).astype(np.float32)
    return (rng.normal(size=(n, p, f)) * mask[..., None]).astype(np.float32), mask, rng


def _oracle(x0):
    """The exact v for data x0: v = α ε − σ x0 with ε = (x_t − α x0)/σ, i.e. (α x_t − x0)/σ."""

    def velocity(x_t, t):
        alpha, sigma = alpha_sigma(t[:, :, None])
        return (alpha * x_t - x0) / sigma

    return velocity


def test_time_grid():
    g = time_grid(4)
    np.testing.assert_allclose(g, [1, 0.75, 0.5, 0.25, 0])
    with pytest.raises(ValueError):
        time_grid(0)


def test_shapes_and_masking():
    x0, mask, rng = _masked_data()
    w = tf.constant(rng.normal(size=(5, 5)), tf.float32)
    # a velocity that is nonzero on padded rows too: the sampler must still keep them at 0
    out = integrate(
        lambda x, t: tf.einsum("bpf,fg->bpg", x, w) + t[:, :, None] + 1.0, rng.normal(size=x0.shape), mask, steps=5
    ).numpy()
    assert out.shape == x0.shape
    assert np.all(out[mask == 0] == 0)
    assert np.all(np.any(out[mask == 1] != 0, -1))


@pytest.mark.parametrize("solver", ["ddim", "dpm2m"])
@pytest.mark.parametrize("steps", [1, 2, 7, 50])
def test_true_velocity_recovers_the_data(steps, solver):
    x0, mask, rng = _masked_data()
    out = integrate(_oracle(tf.constant(x0)), rng.normal(size=x0.shape), mask, steps=steps, solver=solver).numpy()
    np.testing.assert_allclose(out, x0, atol=1e-5)


def _gaussian_errors(solver, steps=(25, 100, 400)):
    """Data N(mu, s^2): E[x0 | x_t] is known and the probability-flow ODE maps noise z to
    mu + s z; the largest deviation from that map per step count."""
    mu, s = 1.5, 0.4

    def velocity(x_t, t):
        alpha, sigma = alpha_sigma(t[:, :, None])
        x0 = mu + alpha * s**2 * (x_t - alpha * mu) / (alpha**2 * s**2 + sigma**2)
        eps = (x_t - alpha * x0) / sigma
        return alpha * eps - sigma * x0

    z = np.random.default_rng(1).normal(size=(2000, 1, 1))
    ones = np.ones((2000, 1), np.float32)
    return [np.abs(integrate(velocity, z, ones, steps=k, solver=solver).numpy() - (mu + s * z)).max() for k in steps]


def test_exact_denoiser_follows_the_probability_flow():
    ddim = _gaussian_errors("ddim")
    assert ddim[2] < 0.01
    assert ddim[0] > 2 * ddim[1] > 4 * ddim[2]  # first order: error ~ 1/steps
    dpm = _gaussian_errors("dpm2m")  # multistep second order: far closer at the same cost
    assert all(d < e / 5 for d, e in zip(dpm, ddim)) and dpm[2] < 1e-3


def test_guidance_combines_conditional_and_unconditional():
    x = tf.zeros((3, 2, 1))
    t = tf.ones((3, 1))
    label = np.eye(2, dtype=np.float32)[[0, 1, 1]]

    def fn(x, t, lab):
        return x + tf.reduce_sum(tf.cast(lab, tf.float32) * tf.constant([[2.0, 5.0]]), -1)[:, None, None] + 1.0

    cond = fn(x, t, label).numpy()
    uncond = fn(x, t, np.zeros_like(label)).numpy()
    np.testing.assert_allclose(guided(fn, label, 0.0)(x, t).numpy(), cond)
    np.testing.assert_allclose(guided(fn, label, 1.5)(x, t).numpy(), 2.5 * cond - 1.5 * uncond, rtol=1e-6)


def test_sample_particles_from_the_generator_head(small_config):
    from omnilearn.models import OmniLearn

    model = OmniLearn(small_config, mode="generator", seed=0)
    _, mask, rng = _masked_data(n=5, p=7, f=1)
    jet = rng.normal(size=(5, 4)).astype(np.float32)
    label = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]]
    a = sample_particles(model, jet, label, mask, steps=3, guidance=0.5, seed=4, batch_size=2, progress=False)
    b = sample_particles(model, jet, label, mask, steps=3, guidance=0.5, seed=4, batch_size=5, progress=False)
    assert a.shape == (5, 7, small_config.num_feat)
    assert np.all(a[mask == 0] == 0) and np.all(np.isfinite(a))
    np.testing.assert_allclose(a, b, atol=1e-5)  # batching does not change the samples


def test_short_last_batch_does_not_retrace(small_config, monkeypatch):
    """The last batch is padded to the batch size, so the (costly) sampler graph is traced once."""
    from omnilearn.generation import sampler
    from omnilearn.models import OmniLearn

    traces = []
    real_integrate = sampler.integrate
    monkeypatch.setattr(sampler, "integrate", lambda *a, **k: traces.append(1) or real_integrate(*a, **k))
    model = OmniLearn(small_config, mode="generator", seed=0)
    _, mask, rng = _masked_data(n=7, p=6, f=1)
    jet = rng.normal(size=(7, 4)).astype(np.float32)
    label = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 7)]
    a = sampler.sample_particles(model, jet, label, mask, steps=2, seed=1, batch_size=3, progress=False)
    assert len(traces) == 1  # batches of 3, 3 and 1 (padded to 3)
    b = sampler.sample_particles(model, jet, label, mask, steps=2, seed=1, batch_size=7, progress=False)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_jet_model_learns_class_conditional_jets(tmp_path):
    from omnilearn.generation.jet_model import load_jet_model, sample_jets, train_jet_model

    rng = np.random.default_rng(0)
    pid = rng.integers(0, 2, 3000)
    centre = np.array([[800.0, 0.0, 80.0, 12.0], [1100.0, 0.5, 175.0, 24.0]])
    jets = centre[pid] + rng.normal(size=(3000, 4)) * [50, 0.3, 10, 3]
    train_jet_model(
        jets, pid, ("a", "b"), tmp_path / "jm", epochs=40, batch=128, lr=3e-3, width=32, num_blocks=2, verbose=0
    )
    model, meta = load_jet_model(tmp_path / "jm")
    want = np.repeat([0, 1], 1000)
    out = sample_jets(model, meta, want, max_particles=30, steps=20, seed=1)
    assert out.shape == (2000, 4)
    assert np.all((out[:, 3] >= 1) & (out[:, 3] <= 30)) and np.all(out[:, 3] == np.rint(out[:, 3]))
    for c in (0, 1):
        got = out[want == c].mean(0)
        assert np.all(np.abs(got - centre[c]) < [40, 0.15, 8, 2]), (c, got)
    assert out[want == 1, 0].mean() - out[want == 0, 0].mean() > 200


# ----------------------------------------------------------------------------------------------
# Metrics


def _jets(n=3000, p=30, seed=0):
    rng = np.random.default_rng(seed)
    mult = rng.integers(5, p + 1, n)
    real = np.arange(p)[None] < mult[:, None]
    out = np.zeros((n, p, 4), np.float64)
    out[..., 0] = rng.normal(0, 0.1, (n, p))
    out[..., 1] = rng.normal(0, 0.1, (n, p))
    out[..., 2] = -np.sort(-rng.exponential(0.05, (n, p)), axis=1)
    out[..., 3] = 1
    out[~real] = 0
    return out


def test_w1_of_a_sample_against_itself_and_a_shifted_copy():
    a, b = _jets(seed=0), _jets(seed=1)  # two samples of the same distribution
    shifted = b.copy()
    shifted[..., 0] += np.where(shifted[..., 3] > 0, 0.05, 0.0)
    same_p, _ = gm.w1p(a, b)
    shift_p, _ = gm.w1p(a, shifted)
    assert same_p[0] < 0.005
    assert abs(shift_p[0] - 0.05) < 0.005  # W1 between a distribution and its translate is the shift
    self_p, _ = gm.w1p(a, a, num_eval_samples=len(a), num_batches=1)
    scaled = b.copy()
    scaled[..., 2] *= 1.2
    same_m, _ = gm.w1m(a, b)
    scaled_m, _ = gm.w1m(a, scaled)
    assert scaled_m > 5 * same_m
    assert abs(scaled_m - 0.2 * gm.jet_mass(b).mean()) < 0.2 * 0.2 * gm.jet_mass(b).mean()
    same_e, _ = gm.w1efp(a, b)
    scaled_e, _ = gm.w1efp(a, scaled)
    assert np.all(scaled_e > 3 * same_e)
    assert np.all(self_p < same_p + 1e-12)


def test_efps_by_brute_force():
    rng = np.random.default_rng(2)
    p = np.zeros((3, 4, 4))
    p[..., :2] = rng.normal(0, 0.2, (3, 4, 2))
    p[..., 2] = rng.uniform(0.05, 0.4, (3, 4))
    p[..., 3] = 1
    p[1, 3] = 0  # a padded particle
    # star with a doubled spoke, path with a doubled end / middle, triangle with a tail, square
    graphs = [
        [(1, 0), (1, 0), (1, 2), (1, 3)],
        [(0, 1), (0, 1), (1, 2), (2, 3)],
        [(0, 1), (1, 2), (1, 2), (2, 3)],
        [(0, 1), (1, 2), (2, 0), (2, 3)],
        [(0, 1), (1, 2), (2, 3), (3, 0)],
    ]
    for j in range(3):
        z = p[j, :, 2]
        theta = np.hypot(p[j, :, None, 0] - p[j, None, :, 0], p[j, :, None, 1] - p[j, None, :, 1])
        want = []
        for g in graphs:
            total = 0.0
            for idx in itertools.product(range(4), repeat=4):
                total += np.prod(z[list(idx)]) * np.prod([theta[idx[a], idx[b]] for a, b in g])
            want.append(total)
        np.testing.assert_allclose(gm.efps(p[j : j + 1])[0], want, rtol=1e-10)


def test_emd_and_cov_mmd():
    pytest.importorskip("ot")
    one = np.array([[0.0, 0.0, 0.5]])
    other = np.array([[0.3, 0.4, 0.5]])
    assert gm.emd(one, one) == pytest.approx(0.0, abs=1e-12)
    assert gm.emd(one, other) == pytest.approx(0.5 * 0.5)  # pT x distance
    softer = np.array([[0.3, 0.4, 0.2]])
    assert gm.emd(one, softer) == pytest.approx(0.2 * 0.5 + 0.3)  # moved + |pT difference|
    a, b = _jets(200, seed=0), _jets(200, seed=1)
    shifted = b.copy()
    shifted[..., 0] += np.where(shifted[..., 3] > 0, 0.2, 0.0)
    cov_same, mmd_same = gm.cov_mmd(a, b, num_eval_samples=30, num_batches=2)
    cov_shift, mmd_shift = gm.cov_mmd(a, shifted, num_eval_samples=30, num_batches=2)
    assert mmd_shift > 1.5 * mmd_same
    assert 0 < cov_same <= 1 and 0 < cov_shift <= 1


def test_against_jetnet_if_installed():
    """Same jet mass and EFPs (same column order) as jetnet, and W1s within the bootstrap noise.

    jetnet reads a 4th particle column as a mass, so it gets (η, φ, pT) only; its W1^P skips
    the zero-padded particles itself. (Run here once with jetnet 0.2.5 and torch 2.13 CPU.)
    """
    jetnet_eval = pytest.importorskip("jetnet.evaluation")
    jetnet = __import__("jetnet")
    a, b = _jets(2000, seed=0), _jets(2000, seed=1)
    b[..., 2] *= 1.1
    a3, b3 = a[..., :3], b[..., :3]
    np.testing.assert_allclose(gm.jet_mass(a), jetnet.utils.jet_features(a3)["mass"], rtol=1e-5)
    np.testing.assert_allclose(gm.efps(a[:200]), jetnet.utils.efps(a3[:200], efp_jobs=1), rtol=1e-8)
    kw = dict(num_batches=10, num_eval_samples=2000)
    assert gm.w1m(a, b, **kw)[0] == pytest.approx(jetnet_eval.w1m(a3, b3, **kw)[0], rel=0.2)
    np.testing.assert_allclose(gm.w1p(a, b, **kw)[0], jetnet_eval.w1p(a3, b3, **kw)[0], rtol=0.2)
    np.testing.assert_allclose(gm.w1efp(a, b, **kw)[0], jetnet_eval.w1efp(a3, b3, efp_jobs=1, **kw)[0], rtol=0.2)


def test_markdown_table_has_paper_and_measured_rows():
    res = {
        "OmniLearn (here)": {
            "t": {
                "w1m": [0.001, 0.0002],
                "w1p": [0.002, 0.001],
                "w1efp": [3e-5, 1e-5],
                "fpnd": None,
                "cov": 0.5,
                "mmd": 0.04,
            }
        }
    }
    md = gm.markdown_table(res, 30)
    published = "| 0.43 ± 0.06 | 0.30 ± 0.07 | 1.31 ± 0.18 | 0.04 | 0.58 | 0.05 |"  # Table VI as printed
    assert f"| Top quark | paper (JetNet, Table VI): OmniLearn {published}" in md
    assert "| Top quark | OmniLearn (here) | 1.00 ± 0.20 | 2.00 ± 1.00 | 3.00 ± 1.00 | – | 0.50 | 0.04 |" in md
    assert "FPND" not in gm.markdown_table(res, 150)
