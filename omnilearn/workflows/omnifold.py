"""OmniFold (Andreassen et al., arXiv:1911.09107; paper Sec. VII): unfolding by iterated reweighting.

Each iteration ``i`` trains two classifiers, each persistent across iterations (iteration i
starts from the weights of iteration i − 1):

* step 1, detector level: MC ("sim", weighted by ``push``) against data (label 1);
  ``pull = push · f/(1 − f)`` on the MC's detector-level events;
* step 2, particle level: MC ("gen", weight 1) against the same MC weighted by ``pull``
  (label 1); ``push = f/(1 − f)``.

``f/(1 − f)`` is the likelihood ratio of a classifier trained with equal total weight per class
(the class-0 weights are rescaled to the class-1 sum; a per-class balance, so the ratio's scale
is fixed by the normalisation below). Outputs are clipped to ``[eps, 1 − eps]``, weights to at
most ``clip``, and every weight array is divided by its **global** mean: the sum and the count
are summed over all workers (:class:`Collective`), not per-worker means averaged, which would
weight a small shard like a large one.

The classifier is pluggable (:class:`StepTrainer`): :class:`OmniLearnSteps` fine-tunes or trains
from scratch OmniLearn in classifier mode (the paper), the closure test uses a logistic
regression on a toy whose likelihood ratio is known (:func:`gaussian_toy`).

Resuming: after each step rank 0 writes every weight array so far to ``<outdir>/weights.npz``
(atomically) and the finished step in ``state.json``; the step in progress resumes from its own
checkpoints (``<outdir>/iter<i>_step<s>/last``), finished steps are not trained again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..atomic import writer_tag

Arrays = np.ndarray | Mapping[str, np.ndarray]


# -- weights --------------------------------------------------------------------------------
class Collective:
    """The cross-worker operations OmniFold needs; this one is a single process.

    ``sum`` adds an array over all workers; ``gather`` concatenates every worker's array in rank
    order (ranks hold contiguous shards, so this is the global event order).
    """

    rank: int = 0
    size: int = 1

    def sum(self, value: np.ndarray) -> np.ndarray:
        return np.asarray(value, dtype=np.float64)

    def gather(self, value: np.ndarray) -> np.ndarray:
        return np.asarray(value)


class HorovodCollective(Collective):
    """:class:`Collective` over Horovod workers (after :func:`omnilearn.training.distributed.init`)."""

    def __init__(self) -> None:
        import horovod.tensorflow as hvd

        self._hvd = hvd
        self.rank, self.size = hvd.rank(), hvd.size()
        self._calls = 0

    def _name(self, what: str) -> str:
        self._calls += 1  # the same sequence of calls on every worker: names match
        return f"omnifold_{what}_{self._calls}"

    def sum(self, value: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        out = self._hvd.allreduce(tf.constant(value, tf.float64), op=self._hvd.Sum, name=self._name("sum"))
        return out.numpy()

    def gather(self, value: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        return self._hvd.allgather(tf.constant(value), name=self._name("gather")).numpy()


def shard(n: int, rank: int, size: int) -> slice:
    """The contiguous events ``rank`` holds out of ``n`` (sizes differ by at most one)."""
    bounds = np.linspace(0, n, size + 1).round().astype(int)
    return slice(int(bounds[rank]), int(bounds[rank + 1]))


def normalize(weights: np.ndarray, collective: Collective | None = None) -> np.ndarray:
    """``weights`` divided by their mean over all workers' events (global sum / global count)."""
    weights = np.asarray(weights, dtype=np.float64)
    total, count = (collective or Collective()).sum(np.array([weights.sum(), weights.size], dtype=np.float64))
    if count == 0 or not total > 0:
        raise ValueError(f"cannot normalise weights: global sum {total} over {int(count)} events")
    return weights * (count / total)


def likelihood_ratio(f: np.ndarray, eps: float = 1e-6, clip: float | None = 10.0) -> np.ndarray:
    """``f/(1 − f)`` of a classifier output ``f`` (probability of label 1), clipped."""
    f = np.clip(np.asarray(f, dtype=np.float64), eps, 1.0 - eps)
    ratio = f / (1.0 - f)
    return ratio if clip is None else np.minimum(ratio, clip)


# -- the loop ---------------------------------------------------------------------------------
class StepTrainer(Protocol):
    """The two classifiers of OmniFold (``step`` 1 or 2), each kept from one iteration to the next."""

    def train(self, step: int, iteration: int, x: Arrays, y: np.ndarray, w: np.ndarray, outdir: Path) -> None:
        """Train classifier ``step`` on events ``x`` (label ``y`` 0/1, weight ``w``), writing to ``outdir``."""

    def restore(self, step: int, iteration: int, outdir: Path) -> None:
        """Set classifier ``step`` to the result of a finished training in ``outdir`` (resume)."""

    def predict(self, step: int, x: Arrays) -> np.ndarray:
        """Probability of label 1 per event, shape ``(N,)``."""


def concat(a: Arrays, b: Arrays) -> Arrays:
    if isinstance(a, Mapping):
        return {k: np.concatenate([a[k], b[k]]) for k in a}
    return np.concatenate([a, b])


def take(x: Arrays, index) -> Arrays:
    if isinstance(x, Mapping):
        return {k: v[index] for k, v in x.items()}
    return x[index]


def num_events(x: Arrays) -> int:
    return len(next(iter(x.values()))) if isinstance(x, Mapping) else len(x)


@dataclass(frozen=True)
class OmniFoldConfig:
    """The algorithm's own settings (the classifiers' are their trainer's)."""

    num_iter: int = 5
    #: classifier outputs are clipped to [eps, 1 - eps] before f/(1-f)
    eps: float = 1e-6
    #: each likelihood ratio is capped here (a few events with f → 1 would dominate otherwise)
    clip: float = 10.0


def _balanced(w0: np.ndarray, w1: np.ndarray, collective: Collective) -> np.ndarray:
    """Class-0 weights rescaled so that both classes have the same global total weight."""
    s0, s1 = collective.sum(np.array([w0.sum(), w1.sum()]))
    return np.concatenate([w0 * (s1 / s0), w1]).astype(np.float32)


def _write_state(outdir: Path, weights: dict[str, np.ndarray], done: list[list[int]], config: dict) -> None:
    """``weights.npz`` then ``state.json``, each renamed into place: state never names missing weights."""
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = outdir / f".weights.{writer_tag()}.npz"
    np.savez(tmp, **weights)
    os.replace(tmp, outdir / "weights.npz")
    tmp = outdir / f".state.{writer_tag()}.json"
    tmp.write_text(json.dumps({"done": done, "config": config}, indent=1))
    os.replace(tmp, outdir / "state.json")


def read_state(outdir: str | os.PathLike) -> tuple[list[list[int]], dict[str, np.ndarray]]:
    """The finished (iteration, step) pairs and the global weight arrays of a run (empty if none)."""
    outdir = Path(outdir)
    if not (outdir / "state.json").exists():
        return [], {}
    done = json.loads((outdir / "state.json").read_text())["done"]
    with np.load(outdir / "weights.npz") as f:
        return done, {k: f[k] for k in f.files}


def omnifold(
    mc_gen: Arrays,
    mc_sim: Arrays,
    data_sim: Arrays,
    trainer: StepTrainer,
    outdir: str | os.PathLike,
    config: OmniFoldConfig = OmniFoldConfig(),
    *,
    data_weight: np.ndarray | None = None,
    collective: Collective | None = None,
    resume: bool = True,
    log: Callable[[str], None] | None = print,
) -> dict[str, np.ndarray]:
    """Run OmniFold; every array holds this worker's shard of the events.

    Args:
        mc_gen, mc_sim: the same MC events at particle and detector level (paired by index).
        data_sim: the "data" at detector level.
        data_weight: per-event weights of the data (default 1).

    Returns the global weight arrays over all MC events (every worker gets them all):
    ``pull_<i>`` (step 1 of iteration i: MC reweighted to data at detector level; ``pull_0`` is
    Table VIII's reweighting) and ``push_<i>`` (step 2: the unfolded particle-level weights; the
    last one is Table IX's unfolding).
    """
    collective = collective or Collective()
    outdir = Path(outdir)
    n_mc, n_data = num_events(mc_sim), num_events(data_sim)
    if num_events(mc_gen) != n_mc:
        raise ValueError(f"mc_gen has {num_events(mc_gen)} events, mc_sim {n_mc}: they must be paired")
    total = int(collective.sum(np.array([n_mc]))[0])
    mine = shard(total, collective.rank, collective.size)
    if mine.stop - mine.start != n_mc:
        raise ValueError(f"rank {collective.rank} holds {n_mc} MC events, expected shard {mine} of {total}")
    data_weight = np.ones(n_data) if data_weight is None else np.asarray(data_weight, dtype=np.float64)
    done, saved = read_state(outdir) if resume else ([], {})
    weights: dict[str, np.ndarray] = dict(saved)
    settings = asdict(config)
    push = np.ones(n_mc)  # finished steps below replace it with their push, in order
    y1 = np.concatenate([np.zeros(n_mc), np.ones(n_data)]).astype(np.float32)
    y2 = np.concatenate([np.zeros(n_mc), np.ones(n_mc)]).astype(np.float32)
    for i in range(config.num_iter):
        for step in (1, 2):
            step_dir = outdir / f"iter{i}_step{step}"
            if [i, step] in done:
                trainer.restore(step, i, step_dir)  # the persistent classifier as it ended this step
                if step == 2:
                    push = weights[f"push_{i}"][mine]
                continue
            if log is not None and collective.rank == 0:
                log(f"OmniFold iteration {i + 1}/{config.num_iter}, step {step}")
            if step == 1:
                w = _balanced(push, data_weight, collective)
                trainer.train(1, i, concat(mc_sim, data_sim), y1, w, step_dir)
                f = trainer.predict(1, mc_sim)
                pull = normalize(push * likelihood_ratio(f, config.eps, config.clip), collective)
                weights[f"pull_{i}"] = collective.gather(pull)
            else:
                pull = weights[f"pull_{i}"][mine]
                w = _balanced(np.ones(n_mc), pull, collective)
                trainer.train(2, i, concat(mc_gen, mc_gen), y2, w, step_dir)
                f = trainer.predict(2, mc_gen)
                push = normalize(likelihood_ratio(f, config.eps, config.clip), collective)
                weights[f"push_{i}"] = collective.gather(push)
            done.append([i, step])
            if collective.rank == 0:
                _write_state(outdir, weights, done, settings)
    return weights


# -- the toy ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class GaussianToy:
    """Particle level z ~ N(mu, 1), detector level x = z + N(0, smear): MC has ``mu_mc``, data ``mu_data``."""

    mu_mc: float = 0.0
    mu_data: float = 0.6
    smear: float = 0.5

    def sample(self, n: int, mu: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        gen = rng.normal(mu, 1.0, n)
        return gen[:, None], (gen + rng.normal(0.0, self.smear, n))[:, None]

    def detector_ratio(self, x: np.ndarray) -> np.ndarray:
        """The true p_data(x)/p_mc(x) at detector level (both Gaussians of width √(1 + smear²))."""
        var = 1.0 + self.smear**2
        return np.exp(((x - self.mu_mc) ** 2 - (x - self.mu_data) ** 2) / (2 * var))

    def particle_ratio(self, z: np.ndarray) -> np.ndarray:
        """The true p_data(z)/p_mc(z) at particle level: what OmniFold converges to."""
        return np.exp(((z - self.mu_mc) ** 2 - (z - self.mu_data) ** 2) / 2)


class LogisticSteps:
    """Two weighted logistic regressions on (x, x²) (Newton's method): for Gaussians the exact
    log likelihood ratio is in this family, so a closure test measures the loop, not the model.

    With a ``collective`` the gradient and Hessian are summed over the workers, so N workers
    take exactly the steps of one process holding all events (only rank 0 writes)."""

    def __init__(self, iterations: int = 25, l2: float = 1e-6, collective: Collective | None = None):
        self.iterations, self.l2 = iterations, l2
        self.collective = collective or Collective()
        self.coef: dict[int, np.ndarray] = {}
        self.trained: list[tuple[int, int]] = []

    @staticmethod
    def _design(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        return np.concatenate([np.ones((len(x), 1)), x, x**2], axis=1)

    def train(self, step, iteration, x, y, w, outdir) -> None:
        a = self._design(x)
        beta = self.coef.get(step, np.zeros(a.shape[1]))  # persistent: starts where it ended
        for _ in range(self.iterations):
            p = 1.0 / (1.0 + np.exp(-a @ beta))
            k = a.shape[1]
            both = self.collective.sum(
                np.concatenate([a.T @ (w * (p - y)), ((a * (w * p * (1 - p))[:, None]).T @ a).ravel()])
            )
            grad, hess = both[:k] + self.l2 * beta, both[k:].reshape(k, k) + self.l2 * np.eye(k)
            beta = beta - np.linalg.solve(hess, grad)
        self.coef[step] = beta
        self.trained.append((iteration, step))
        if self.collective.rank == 0:
            Path(outdir).mkdir(parents=True, exist_ok=True)
            np.save(Path(outdir) / "coef.npy", beta)

    def restore(self, step, iteration, outdir) -> None:
        self.coef[step] = np.load(Path(outdir) / "coef.npy")

    def predict(self, step, x) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self._design(x) @ self.coef[step]))


def gaussian_toy(n: int = 20000, toy: GaussianToy = GaussianToy(), seed: int = 0) -> dict[str, np.ndarray]:
    """Arrays of the toy: ``mc_gen``, ``mc_sim``, ``data_gen``, ``data_sim`` ``(n, 1)``."""
    mc_gen, mc_sim = toy.sample(n, toy.mu_mc, seed)
    data_gen, data_sim = toy.sample(n, toy.mu_data, seed + 1)
    return {"mc_gen": mc_gen, "mc_sim": mc_sim, "data_gen": data_gen, "data_sim": data_sim}
