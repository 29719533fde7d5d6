"""Generation metrics of JetNet (Kansal et al., arXiv:2106.11535), as in the paper's Tables VI–VII.

Jets are JetNet particle arrays ``(N, P, ≥3)`` with columns η_rel, φ_rel, pT_rel (a mask
column may follow; padded particles are all zero). For each metric the definition follows
``jetnet.evaluation`` (version 0.2.5):

* **W1^M**: 1-Wasserstein distance between the jet masses computed from the particles
  (massless, pT_rel, so in units of the jet pT);
* **W1^P**: W1 of each particle feature over all real particles (η_rel, φ_rel, pT_rel); the
  tables quote the mean of the three;
* **W1^EFP**: W1 of the 5 energy-flow polynomials with 4 vertices and 4 edges that are
  connected (``EFPSet(("n==", 4), ("d==", 4), ("p==", 1), measure="hadr", beta=1)``),
  z_i = pT_rel, θ_ij = ΔR_ij; the tables quote the mean of the five;
* each W1 is the mean ± standard deviation over ``num_batches`` (5) draws, with replacement,
  of ``num_eval_samples`` jets (at most 50,000) from each set — the paper's bootstrap;
* **coverage** and **MMD**: in each of ``num_batches`` (10) draws of 100 real and 100
  generated jets, the energy mover's distance (R = 1, unnormalised pT, as
  ``energyflow.emd.emds``) between every pair; MMD is the mean over real jets of the distance
  to the closest generated jet, coverage the fraction of real jets that are the closest real
  jet of some generated jet (:func:`cov_mmd`);
* **FPND** needs jetnet's pretrained ParticleNet (torch, torch_geometric) and only applies to
  real JetNet30 g, q, t jets: :func:`fpnd` uses ``jetnet.evaluation.fpnd`` when importable and
  returns None otherwise.

Everything here is numpy/scipy; the EMD uses POT (``ot.emd2``), an optional extra
(``generation``). The package ``jetnet`` itself needs torch (and coffea), so it is not
required; ``tests/test_generation.py`` compares with it when it is installed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import wasserstein_distance

from ..paper import generation_table

#: Scale of each metric in the tables (W1^M and W1^P in 1e-3, W1^EFP in 1e-5).
SCALES = {"w1m": 1e3, "w1p": 1e3, "w1efp": 1e5}
CLASS_NAMES = {"g": "Gluon", "q": "Light quark", "t": "Top quark", "w": "W boson", "z": "Z boson"}


# ----------------------------------------------------------------------------------------------
# Observables


def _real(particles: np.ndarray) -> np.ndarray:
    return np.linalg.norm(particles[..., :3], axis=-1) > 0


def jet_mass(particles: np.ndarray) -> np.ndarray:
    """Mass of each jet from its massless particles (η_rel, φ_rel, pT_rel) → ``(N,)``."""
    p = np.asarray(particles, np.float64)
    eta, phi, pt = p[..., 0], p[..., 1], np.where(_real(p), p[..., 2], 0.0)
    e = (pt * np.cosh(eta)).sum(-1)
    px, py, pz = (pt * np.cos(phi)).sum(-1), (pt * np.sin(phi)).sum(-1), (pt * np.sinh(eta)).sum(-1)
    return np.sqrt(np.clip(e**2 - px**2 - py**2 - pz**2, 0.0, None))


def efps(particles: np.ndarray, chunk: int | None = None) -> np.ndarray:
    """The 5 prime EFPs with 4 vertices and 4 edges, β = 1, z = pT_rel → ``(N, 5)``.

    Graphs (edges of a multigraph on vertices a, b, c, d), in the column order of
    ``jetnet.utils.efps`` (energyflow's EFPSet; checked equal to 1e-15 against jetnet 0.2.5):
    the star with a doubled spoke (ba, ba, bc, bd); the path with a doubled end (ab, ab, bc,
    cd); the path with a doubled middle (ab, bc, bc, cd); the triangle with a tail (ab, bc, ca,
    cd); the square (ab, bc, cd, da).
    Each is Σ z_a z_b z_c z_d Π θ over its edges, evaluated with matrix products.
    """
    p = np.asarray(particles, np.float64)
    out = np.empty((len(p), 5))
    chunk = chunk or max(1, 2_000_000 // max(p.shape[1], 1) ** 2)  # ~16 MB per (jets, P, P) array
    for a in range(0, len(p), chunk):
        q = p[a : a + chunk]
        z = np.where(_real(q), q[..., 2], 0.0)
        d_eta = q[..., :, None, 0] - q[..., None, :, 0]
        d_phi = q[..., :, None, 1] - q[..., None, :, 1]
        theta = np.sqrt(d_eta**2 + d_phi**2)
        theta2 = theta**2
        A = theta * z[:, None, :]  # A_ij = θ_ij z_j
        s = np.einsum("nij,nj->ni", theta, z)  # s_i = Σ_j θ_ij z_j
        v = np.einsum("nij,nj->ni", theta2, z)  # v_i = Σ_j θ_ij² z_j
        A2 = A @ A
        A3 = A2 @ A
        square = np.einsum("nij,nji->n", A2, A2)
        tail = np.einsum("nii,ni->n", A3, s)
        path_end = np.einsum("ni,ni,ni->n", z, v, np.einsum("nij,nj->ni", theta, z * s))
        path_mid = np.einsum("ni,ni,nij,nj,nj->n", z, s, theta2, z, s)
        star = np.einsum("ni,ni,ni->n", z, v, s**2)
        out[a : a + chunk] = np.stack([star, path_end, path_mid, tail, square], -1)
    return out


# ----------------------------------------------------------------------------------------------
# W1 metrics with jetnet's bootstrap


def _w1_batches(
    x: np.ndarray, y: np.ndarray, num_eval_samples: int, num_batches: int, rng: np.random.Generator
) -> np.ndarray:
    """W1 per column of per-jet observables ``x`` (N, k) and ``y`` (M, k) over random draws → (batches, k)."""
    n = min(num_eval_samples, len(x), len(y))
    out = []
    for _ in range(num_batches):
        a, b = x[rng.choice(len(x), n)], y[rng.choice(len(y), n)]
        out.append([wasserstein_distance(a[:, i], b[:, i]) for i in range(x.shape[1])])
    return np.asarray(out)


def w1m(
    real: np.ndarray, gen: np.ndarray, num_eval_samples: int = 50_000, num_batches: int = 5, seed: int = 0
) -> tuple[float, float]:
    """W1 of the jet mass: (mean, std) over the draws."""
    w = _w1_batches(
        jet_mass(real)[:, None], jet_mass(gen)[:, None], num_eval_samples, num_batches, np.random.default_rng(seed)
    )[:, 0]
    return float(w.mean()), float(w.std())


def w1p(
    real: np.ndarray, gen: np.ndarray, num_eval_samples: int = 50_000, num_batches: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """W1 of η_rel, φ_rel, pT_rel over the real particles of the drawn jets: (means (3,), stds (3,))."""
    rng = np.random.default_rng(seed)
    real, gen = np.asarray(real)[..., :3], np.asarray(gen)[..., :3]
    mr, mg = _real(real), _real(gen)
    n = min(num_eval_samples, len(real), len(gen))
    out = []
    for _ in range(num_batches):
        a, b = rng.choice(len(real), n), rng.choice(len(gen), n)
        pa, pb = real[a][mr[a]], gen[b][mg[b]]
        out.append([wasserstein_distance(pa[:, i], pb[:, i]) if len(pa) and len(pb) else math.inf for i in range(3)])
    out = np.asarray(out)
    return out.mean(0), out.std(0)


def w1efp(
    real: np.ndarray, gen: np.ndarray, num_eval_samples: int = 50_000, num_batches: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """W1 of each of the 5 EFPs: (means (5,), stds (5,))."""
    w = _w1_batches(efps(real), efps(gen), num_eval_samples, num_batches, np.random.default_rng(seed))
    return w.mean(0), w.std(0)


# ----------------------------------------------------------------------------------------------
# Coverage and MMD with the energy mover's distance


def emd(a: np.ndarray, b: np.ndarray, R: float = 1.0) -> float:
    """Energy mover's distance between two jets ``(P, ≥3)`` (η, φ, pT), unnormalised pT:
    min Σ f_ij θ_ij / R + |Σ pT_a − Σ pT_b| (``energyflow.emd.emd`` with ``norm=False``).

    The pT difference is carried by a dummy particle on the softer side whose distance to
    everything is R, which turns the problem into a balanced transport solved by ``ot.emd2``.
    """
    import ot

    a = a[_real(a)]
    b = b[_real(b)]
    wa, wb = a[:, 2].astype(np.float64), b[:, 2].astype(np.float64)
    cost = np.sqrt((a[:, None, 0] - b[None, :, 0]) ** 2 + (a[:, None, 1] - b[None, :, 1]) ** 2) / R
    diff = wa.sum() - wb.sum()
    if diff > 0:
        wb = np.append(wb, diff)
        cost = np.concatenate([cost, np.ones((len(wa), 1))], 1)
    elif diff < 0:
        wa = np.append(wa, -diff)
        cost = np.concatenate([cost, np.ones((1, len(wb)))], 0)
    if len(wa) == 0 or len(wb) == 0:
        return float(abs(diff))
    return float(ot.emd2(wa, wb, np.ascontiguousarray(cost)))


def cov_mmd(
    real: np.ndarray, gen: np.ndarray, num_eval_samples: int = 100, num_batches: int = 10, seed: int = 0
) -> tuple[float, float]:
    """Coverage and MMD as ``jetnet.evaluation.cov_mmd``, averaged over ``num_batches`` draws of
    ``num_eval_samples`` real and generated jets, with the EMD matrix d[gen, real] of each draw:
    MMD = mean over real jets of the distance to the closest generated jet; coverage = fraction
    of the real jets that are the closest real jet of at least one generated jet."""
    rng = np.random.default_rng(seed)
    covs, mmds = [], []
    for _ in range(num_batches):
        r = real[rng.choice(len(real), num_eval_samples)]
        g = gen[rng.choice(len(gen), num_eval_samples)]
        d = np.array([[emd(gi, rj) for rj in r] for gi in g])  # (gen, real)
        mmds.append(np.mean(np.min(d, axis=0)))
        covs.append(np.unique(np.argmin(d, axis=1)).size / num_eval_samples)
    return float(np.mean(covs)), float(np.mean(mmds))


def fpnd(gen: np.ndarray, jet_type: str) -> float | None:
    """``jetnet.evaluation.fpnd`` for JetNet30 g/q/t jets, or None (with the reason printed)."""
    if jet_type not in ("g", "q", "t") or gen.shape[1] != 30:
        return None
    try:
        from jetnet.evaluation import fpnd as jetnet_fpnd
    except Exception as err:  # ImportError, or torch_geometric missing inside jetnet
        print(
            f"FPND skipped: jetnet's ParticleNet is not usable here ({type(err).__name__}: {err}); "
            "it needs the optional 'jetnet' extra with torch and torch_geometric"
        )
        return None
    return float(jetnet_fpnd(np.asarray(gen)[..., :3], jet_type=jet_type, use_tqdm=False))


# ----------------------------------------------------------------------------------------------
# All metrics of one class


def evaluate(
    real: np.ndarray,
    gen: np.ndarray,
    jet_type: str | None = None,
    *,
    seed: int = 0,
    num_batches: int = 5,
    cov_batches: int = 10,
    cov_samples: int = 100,
    with_fpnd: bool = True,
) -> dict:
    """Every metric for one class: {"w1m": [mean, std], "w1p": [...], ..., per-feature detail}.

    W1 values are raw (multiply by :data:`SCALES` for the tables). ``cov``/``mmd`` are None when
    POT is not installed.
    """
    m = w1m(real, gen, num_batches=num_batches, seed=seed)
    p_mean, p_std = w1p(real, gen, num_batches=num_batches, seed=seed)
    e_mean, e_std = w1efp(real, gen, num_batches=num_batches, seed=seed)
    out = {
        "n_real": int(len(real)),
        "n_gen": int(len(gen)),
        "w1m": list(m),
        "w1p": [float(p_mean.mean()), float(p_std.mean())],
        "w1p_features": {
            "etarel": [float(p_mean[0]), float(p_std[0])],
            "phirel": [float(p_mean[1]), float(p_std[1])],
            "ptrel": [float(p_mean[2]), float(p_std[2])],
        },
        "w1efp": [float(e_mean.mean()), float(e_std.mean())],
        "w1efp_each": [[float(a), float(b)] for a, b in zip(e_mean, e_std)],
    }
    try:
        import ot  # noqa: F401

        out["cov"], out["mmd"] = cov_mmd(
            real, gen, num_eval_samples=min(cov_samples, len(real), len(gen)), num_batches=cov_batches, seed=seed
        )
    except ImportError:
        print("coverage/MMD skipped: POT is not installed (pip install -e '.[generation]')")
        out["cov"], out["mmd"] = None, None
    out["fpnd"] = fpnd(gen, jet_type) if with_fpnd and jet_type else None
    return out


#: The paper's rows shown beside ours: the two models we train, with generated jet kinematics
#: and with the validation split's ("Ideal"); the other generators are in :mod:`omnilearn.paper`.
PAPER_MODELS = ("PET generator", "PET generator (Ideal)", "OmniLearn", "OmniLearn (Ideal)")


def _cell(metric: str, value) -> str:
    """A measured entry in the table's units (W1 scaled by :data:`SCALES`)."""
    if value is None:
        return "–"
    if isinstance(value, (list, tuple)):
        mean, std = value
        return f"{mean * SCALES[metric]:.2f} ± {std * SCALES[metric]:.2f}"
    return f"{value:.2f}" if metric != "fpnd" else f"{value:.3g}"


def markdown_table(
    results: Mapping[str, Mapping[str, dict]], num_particles: int, title: str = "", with_paper: bool = True
) -> str:
    """Rows per class: the paper's :data:`PAPER_MODELS` rows of Table VI (up to 30 particles) or
    VII (if ``with_paper``), then ours, in the paper's columns. Without results, the paper's rows
    of every class.

    ``results``: {run label: {jet type: :func:`evaluate` output}}.
    """
    table = generation_table(num_particles)
    cols = table.columns
    lines = []
    if title:
        lines += [f"**{title}**", ""]
    lines.append("| jet class | model | " + " | ".join(table.headers) + " |")
    lines.append("|---|---|" + "---|" * len(cols))
    # the classes measured; every class of the paper's table when nothing is (its rows alone)
    types = [t for t in ("g", "q", "t", "w", "z") if any(t in r for r in results.values())]
    types = types or (list(table.groups) if with_paper else [])
    for t in types:
        name = CLASS_NAMES[t]
        if with_paper:
            for row in table.rows_of(t):
                if row.model in PAPER_MODELS:
                    cells = " | ".join(table.text(row, c) or "–" for c in cols)
                    lines.append(f"| {name} | paper (JetNet, {table.name}): {row.model} | {cells} |")
        for label, per_type in results.items():
            if t in per_type:
                lines.append(f"| {name} | {label} | " + " | ".join(_cell(c, per_type[t].get(c)) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def class_arrays(particles: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> dict[str, np.ndarray]:
    """{jet type: particles of that class}."""
    return {c: particles[labels == i] for i, c in enumerate(classes) if np.any(labels == i)}
