"""OmniFold: the weight algebra, a closure test on a toy with a known likelihood ratio, resume."""

from __future__ import annotations

import numpy as np
import pytest

from omnilearn.workflows import omnifold as of


class TwoShards(of.Collective):
    """Worker ``rank`` of 2, whose partner holds ``other``: sums add the partner's share."""

    def __init__(self, rank: int, other: np.ndarray):
        self.rank, self.size, self.other = rank, 2, np.asarray(other, dtype=np.float64)

    def sum(self, value):
        value = np.asarray(value, dtype=np.float64)
        partner = {1: [self.other.size], 2: [self.other.sum(), self.other.size]}[value.size]
        return value + np.asarray(partner)


def test_normalize_divides_by_the_global_mean_not_the_mean_of_means():
    a, b = np.array([1.0, 1.0, 1.0, 1.0]), np.array([4.0])  # unequal shards, unequal means
    whole = of.normalize(np.concatenate([a, b]))
    np.testing.assert_allclose(whole.mean(), 1.0)
    split = np.concatenate([of.normalize(a, TwoShards(0, b)), of.normalize(b, TwoShards(1, a))])
    np.testing.assert_allclose(split, whole)
    # what an element-wise average of per-worker means would give: different, so this can fail
    mean_of_means = (a.mean() + b.mean()) / 2
    assert not np.allclose(np.concatenate([a, b]) / mean_of_means, whole)


def test_normalize_rejects_empty_or_zero_weights():
    with pytest.raises(ValueError, match="cannot normalise"):
        of.normalize(np.zeros(3))


def test_likelihood_ratio_clips_outputs_and_ratios():
    r = of.likelihood_ratio(np.array([0.5, 0.75, 1.0, 0.0]), eps=1e-3, clip=10.0)
    np.testing.assert_allclose(r[:2], [1.0, 3.0])
    assert r[2] == 10.0 and 0 < r[3] < 2e-3


def test_shards_cover_all_events_once():
    parts = [of.shard(11, r, 3) for r in range(3)]
    assert [p.start for p in parts] == [0, 4, 7] and parts[-1].stop == 11


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    toy = of.GaussianToy()
    arrays = of.gaussian_toy(40000, toy, seed=3)
    trainer = of.LogisticSteps()
    out = tmp_path_factory.mktemp("toy")
    weights = of.omnifold(
        arrays["mc_gen"], arrays["mc_sim"], arrays["data_sim"], trainer, out, of.OmniFoldConfig(num_iter=4), log=None
    )
    return toy, arrays, trainer, weights, out


def test_step1_learns_the_known_detector_likelihood_ratio(toy_run):
    toy, arrays, _, weights, _ = toy_run
    x = arrays["mc_sim"][:, 0]
    truth = toy.detector_ratio(x)
    truth /= truth.mean()
    central = np.abs(x) < 2  # where both samples have events
    np.testing.assert_allclose(weights["pull_0"][central], truth[central], rtol=0.02)


def test_unfolding_converges_to_the_particle_level_truth(toy_run):
    toy, arrays, _, weights, _ = toy_run
    z = arrays["mc_gen"][:, 0]
    truth = toy.particle_ratio(z)
    truth /= truth.mean()
    central = np.abs(z) < 2
    first, last = weights["push_0"], weights["push_3"]
    err = [np.abs(w[central] / truth[central] - 1).max() for w in (first, last)]
    assert err[1] < 0.03 and err[1] < err[0]  # iterating removes the detector's bias
    np.testing.assert_allclose(np.average(z, weights=last), toy.mu_data, atol=0.03)
    assert abs(np.average(z, weights=first) - toy.mu_data) > 0.05  # one iteration is not enough


class Killed(RuntimeError):
    pass


class DiesOnce(of.LogisticSteps):
    def __init__(self, at):
        super().__init__()
        self.at = at

    def train(self, step, iteration, x, y, w, outdir):
        if (iteration, step) == self.at:
            self.at = None
            raise Killed
        super().train(step, iteration, x, y, w, outdir)


def test_a_killed_run_resumes_at_its_step_with_the_same_result(toy_run, tmp_path):
    _, arrays, _, reference, _ = toy_run
    args = (arrays["mc_gen"], arrays["mc_sim"], arrays["data_sim"])
    cfg = of.OmniFoldConfig(num_iter=4)
    trainer = DiesOnce(at=(2, 2))
    with pytest.raises(Killed):
        of.omnifold(*args, trainer, tmp_path, cfg, log=None)
    done, _ = of.read_state(tmp_path)
    assert done[-1] == [2, 1]
    trainer = of.LogisticSteps()
    weights = of.omnifold(*args, trainer, tmp_path, cfg, log=None)
    assert trainer.trained == [(2, 2), (3, 1), (3, 2)]  # nothing finished is trained again
    assert sorted(weights) == sorted(reference)
    for k in reference:
        np.testing.assert_allclose(weights[k], reference[k], rtol=1e-6)


def test_without_resume_every_step_trains_again(toy_run):
    _, arrays, _, _, out = toy_run
    trainer = of.LogisticSteps()
    args = (arrays["mc_gen"], arrays["mc_sim"], arrays["data_sim"], trainer, out, of.OmniFoldConfig(num_iter=2))
    of.omnifold(*args, resume=False, log=None)
    assert trainer.trained == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert of.read_state(out)[0] == [[0, 1], [0, 2], [1, 1], [1, 2]]  # the old state is replaced


def test_unpaired_mc_is_one_clear_error(tmp_path):
    x = np.zeros((5, 1))
    with pytest.raises(ValueError, match="paired"):
        of.omnifold(x, x[:4], x, of.LogisticSteps(), tmp_path, log=None)


# -- evaluation -----------------------------------------------------------------------------
def test_triangular_discriminator_known_values():
    from omnilearn.evaluation.unfolding import triangular_discriminator as delta

    assert delta([1, 2, 3], [2, 4, 6]) == 0.0  # normalised first: same shape
    assert delta([1, 0], [0, 1]) == pytest.approx(1.0)  # disjoint: ½ (1 + 1)
    # p = (0.5, 0.5), q = (0.25, 0.75): ½ (0.0625/0.75 + 0.0625/1.25)
    assert delta([1, 1], [1, 3]) == pytest.approx(0.5 * (0.0625 / 0.75 + 0.0625 / 1.25))


def test_histogram_keeps_overflow_and_toys_shrink_with_statistics():
    from omnilearn.evaluation.unfolding import discriminator_with_toys, histogram

    h, err = histogram(np.array([-5.0, 0.5, 1.5, 99.0]), None, np.array([0.0, 1.0, 2.0]))
    np.testing.assert_allclose(h, [0.5, 0.5])  # under- and overflow land in the edge bins
    np.testing.assert_allclose(err, [np.sqrt(2) / 4] * 2)
    rng = np.random.default_rng(0)
    bins = np.linspace(-3, 3, 21)
    truth, _ = histogram(rng.normal(size=100000), None, bins)
    spreads = []
    for n in (1000, 100000):
        h, err = histogram(rng.normal(0.1, 1, n), None, bins)
        value, spread = discriminator_with_toys(h, err, truth, toys=100)
        assert value > 0 and spread > 0
        spreads.append(spread)
    assert spreads[1] < spreads[0] / 3


def test_compare_reports_every_observable_and_reweighting_helps():
    from omnilearn.data.paired import OBSERVABLES
    from omnilearn.evaluation.unfolding import BINNING, compare

    toy = of.GaussianToy(mu_data=0.3)
    rng = np.random.default_rng(1)
    lo, hi = (np.array([BINNING[o][k] for o in OBSERVABLES]) for k in (0, 1))

    def sample(mu):  # Gaussians of width 1/8 of each observable's range, inside it
        z = rng.normal(mu, 1, (20000, len(OBSERVABLES)))
        return lo + (hi - lo) * (0.5 + z / 8), z

    mc, z = sample(toy.mu_mc)
    data, _ = sample(toy.mu_data)
    ratio = toy.particle_ratio(z[:, 0])
    out = compare(mc, data, {"mc": None, "exact": ratio}, toys=10)
    assert list(out["observables"]) == list(OBSERVABLES)
    mass = out["observables"]["mass"]["delta"]
    assert mass["exact"][0] < mass["mc"][0] / 5  # the exact weights fix the first column only
    width = out["observables"]["width"]["delta"]  # independent of the weights' column: unchanged
    assert width["exact"][0] > width["mc"][0] / 2 and width["mc"][1] > 0


def test_input_statistics_are_summed_over_workers():
    from omnilearn.data.paired import Level
    from omnilearn.workflows.omnifold_run import statistics

    rng = np.random.default_rng(2)
    levels = []
    for n in (30, 7):  # two workers' shards of unequal size
        mask = rng.random((n, 5)) < 0.7
        levels.append(
            Level(rng.normal(2, 3, (n, 5, 13)) * mask[..., None], rng.normal(100, 9, (n, 4)), np.zeros((n, 6)))
        )

    class Partner(of.Collective):
        """Worker 0 of 2: sums add worker 1's running sums (in the order statistics() sends them)."""

        def __init__(self, other):
            self.other = other

        def sum(self, value):
            from omnilearn.data.format import RunningStats

            s = RunningStats(13)
            s.update(self.other.data, self.other.jet)
            fields = (s.p_sum, s.p_sq, [s.p_n], s.j_sum, s.j_sq, [s.j_n])
            return np.asarray(value) + np.concatenate([np.ravel(f) for f in fields])

    whole = Level(
        *(np.concatenate([getattr(a, k), getattr(b, k)]) for a, b in [levels] for k in ("data", "jet", "obs"))
    )
    expected = statistics([whole])
    got = statistics([levels[0]], Partner(levels[1]))
    for k in ("particle_mean", "particle_std", "jet_mean", "jet_std"):
        np.testing.assert_allclose(getattr(got, k), getattr(expected, k), rtol=1e-5)
    assert not np.allclose(statistics([levels[0]]).jet_mean, expected.jet_mean)  # a shard alone differs
