"""OmniFold data: paired files, the offline Z+jet generator (smearing, observables), the Zenodo converter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from omnilearn.data import paired
from omnilearn.data.format import DataFormatError

physics = pytest.importorskip("pythia8mc", reason="needs pythia8mc and fastjet")
from omnilearn.pythia import zjets  # noqa: E402

NO_DETECTOR = zjets.Detector(
    track_efficiency=1.0,
    track_resolution=0,
    lepton_resolution=0,
    ecal_stochastic=0,
    ecal_constant=0,
    hcal_stochastic=0,
    hcal_constant=0,
    calo_threshold=0,
    photon_angle=0,
    hadron_angle=0,
)


def _particles(n=40, seed=0):
    rng = np.random.default_rng(seed)
    pt = rng.exponential(5, n) + 0.5
    eta, phi = rng.normal(0, 0.1, n), rng.normal(0, 0.1, n)
    pdg = rng.choice([211, -211, 22, 130, 11, 2112], n)
    charge = np.select([pdg == 211, pdg == -211, pdg == 11], [1.0, -1.0, -1.0], 0.0)
    mass = np.select([np.abs(pdg) == 211, pdg == 130, pdg == 2112], [0.1396, 0.4976, 0.9396], 0.000511 * (pdg == 11))
    e = np.hypot(pt * np.cosh(eta), mass)
    return pt, eta, phi, e, pdg, charge


def test_smearing_off_is_the_identity_and_on_keeps_masses_physical():
    pt, eta, phi, e, pdg, q = _particles()
    out = zjets.smear(pt, eta, phi, e, pdg, q, NO_DETECTOR, np.random.default_rng(1))
    for a, b in zip(out[:4], (pt, eta, phi, e)):
        np.testing.assert_allclose(a, b, atol=1e-12)
    spt, seta, _, se, spdg, _ = zjets.smear(pt, eta, phi, e, pdg, q, zjets.Detector(), np.random.default_rng(1))
    assert len(spt) < len(pt)  # tracking efficiency and the calorimeter threshold remove particles
    assert np.all(se >= spt * np.cosh(seta) - 1e-9)  # E >= |p|: no negative mass squared
    assert set(spdg[np.isin(np.abs(spdg), (130, 2112))]) <= {130}  # neutral hadrons become K_L


def test_observables_of_a_two_particle_jet():
    # two massless particles: m² = 2 pT1 pT2 (cosh Δη − cos Δφ)
    pt, eta, phi = np.array([60.0, 40.0]), np.array([0.0, 0.2]), np.array([0.0, 0.1])
    e = pt * np.cosh(eta)
    mass, mult, width, log_rho, tau21, z_g = zjets.observables(pt, eta, phi, e)
    assert mass == pytest.approx(math.sqrt(2 * 60 * 40 * (math.cosh(0.2) - math.cos(0.1))), rel=1e-6)
    assert mult == 2 and z_g == pytest.approx(0.4, abs=0.01)  # passes z_cut: nothing groomed
    assert log_rho == pytest.approx(
        2 * math.log(mass / np.hypot(*(pt * np.array([np.cos(phi), np.sin(phi)])).sum(1))), rel=1e-6
    )
    assert tau21 == pytest.approx(0.0, abs=1e-9)  # two axes on the two particles
    # the axis sits ~40 % of the way to the softer particle: width ≈ 2 · 0.6 · 0.4 · ΔR₁₂
    assert width == pytest.approx(2 * 0.6 * 0.4 * math.hypot(0.2, 0.1), rel=0.03)
    # a soft third particle fails z_cut and is groomed away: m_SD is the mass without it
    pt3, eta3, phi3 = np.append(pt, 2.0), np.append(eta, 0.35), np.append(phi, -0.3)
    obs3 = zjets.observables(pt3, eta3, phi3, pt3 * np.cosh(eta3))
    assert obs3[0] > mass and obs3[5] == pytest.approx(0.4, abs=0.02) and 0 < obs3[4] < 1


def test_generate_writes_paired_splits_and_reuses_them(tmp_path):
    cfg = zjets.ZJetConfig(events=20, num_particles=30, mpi=False)
    result = zjets.generate(tmp_path, cfg, progress=False)
    assert not result.cached
    sizes = cfg.split_sizes()
    deta = []
    for sample in paired.SAMPLES:
        for split in ("train", "val", "test"):
            path = paired.paired_path(tmp_path, sample, split)
            gen, sim = (paired.read_level(path, lvl) for lvl in paired.LEVELS)
            assert len(gen) == len(sim) == sizes[split]
            assert gen.data.shape[1:] == (30, 13) and gen.obs.shape[1] == len(paired.OBSERVABLES)
            deta.append(np.abs(gen.jet[:, 1] - sim.jet[:, 1]))
            assert np.all(gen.obs[:, 1] >= gen.jet[:, 3])  # N counts all constituents, data keeps ≤ 30
    # the same event at both levels: the leading jets mostly point the same way (not always:
    # the detector can change which jet leads, as in the released samples)
    assert np.mean(np.concatenate(deta) < 0.2) > 0.7
    again = zjets.generate(tmp_path, cfg, progress=False)
    assert again.cached


def test_reading_a_missing_or_foreign_file_is_one_clear_error(tmp_path):
    with pytest.raises(DataFormatError, match="no such paired file"):
        paired.read_level(tmp_path / "mc_train.h5", "gen")
    import h5py

    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(DataFormatError, match="not a paired file"):
        paired.read_level(tmp_path / "x.h5", "sim")
