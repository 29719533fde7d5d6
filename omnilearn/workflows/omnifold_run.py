"""OmniFold with OmniLearn classifiers on paired files (paper Sec. VII): train, then evaluate.

:class:`OmniLearnSteps` is the :class:`~omnilearn.workflows.omnifold.StepTrainer` of the paper:
two OmniLearn models in classifier mode (two softmax outputs, i.e. one logit difference; the
loss needs two columns), fine-tuned from a pretrained checkpoint (``pretrained``; the body at
``body_lr_factor`` of the heads' rate, the inputs normalised with the pretrained statistics) or
trained from scratch (normalised with the training files' own). Iteration 0 trains with the
recipe's cosine schedule and warm-up, later iterations continue from the previous iteration's
weights at a small constant rate (``later_lr``). 10 % of each step's events are held out for
validation (early stopping, the ``best`` checkpoint); each (iteration, step) has its own
``iter<i>_step<s>/`` with ``last`` (resumable), ``best`` and ``history.csv``.

The events are held in memory (fine for the offline default's thousands of events; the
1.6 M-event Zenodo samples need a machine with ~30 GB per worker at 100 particles).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ModelConfig, TrainConfig
from ..data.format import Normalization, RunningStats
from ..data.paired import LEVELS, Level, paired_path, read_level
from ..training import checkpoint, distributed
from ..training.run import adapt_configs
from ..training.trainer import fit
from .omnifold import Collective, OmniFoldConfig, likelihood_ratio, normalize, omnifold, shard

CLASSES = ["mc", "data"]


def model_inputs(level: Level, normalization: Normalization) -> dict[str, np.ndarray]:
    """``particles`` (N, P, F) normalised on real particles, ``mask`` (N, P), ``jet`` (N, 4) normalised."""
    data = level.data.astype(np.float32)
    mask = np.any(data != 0, axis=-1)
    particles = np.where(mask[..., None], (data - normalization.particle_mean) / normalization.particle_std, 0.0)
    jet = (level.jet - normalization.jet_mean) / normalization.jet_std
    return {"particles": particles.astype(np.float32), "mask": mask.astype(np.float32), "jet": jet.astype(np.float32)}


def statistics(levels: list[Level], collective: Collective | None = None) -> Normalization:
    """Mean and std of the particles and jets of ``levels`` over every worker's events (sums and
    counts added over workers, so all workers normalise alike)."""
    stats = RunningStats(levels[0].data.shape[-1])
    for lv in levels:
        stats.update(lv.data, lv.jet)
    if collective is not None:
        fields = ("p_sum", "p_sq", "p_n", "j_sum", "j_sq", "j_n")
        flat = collective.sum(np.concatenate([np.ravel(getattr(stats, f)) for f in fields]))
        sizes = [np.size(getattr(stats, f)) for f in fields]
        for f, part in zip(fields, np.split(flat, np.cumsum(sizes)[:-1])):
            setattr(stats, f, part if np.ndim(getattr(stats, f)) else float(part[0]))
    return stats.result()


class OmniLearnSteps:
    """The two persistent OmniLearn classifiers of OmniFold (see the module docstring)."""

    def __init__(
        self,
        model_cfg: ModelConfig,
        train_cfg: TrainConfig,
        *,
        later_lr: float = 1e-6,
        val_fraction: float = 0.1,
        normalization: dict[int, Normalization],
        pretrained: str | os.PathLike | None = None,
        collective: Collective | None = None,
        seed: int = 0,
        verbose: int | str = 2,
        resume: bool = True,
    ):
        """``normalization``: the statistics of step 1's (detector-level) and step 2's
        (particle-level) inputs, recorded in each checkpoint; ``resume``: continue a step from
        its ``last`` checkpoint."""
        self.normalization = normalization
        self.resume = resume
        self.model_cfg, self.train_cfg = adapt_configs(model_cfg, train_cfg, pretrained)
        # no EMA copies: only the sampler reads them, and updating them costs a body's worth per step
        self.model_cfg = self.model_cfg.replace(num_classes=len(CLASSES), ema=0.0)
        self.later_lr, self.val_fraction = later_lr, val_fraction
        self.pretrained = pretrained
        self.collective = collective or Collective()
        self.seed, self.verbose = seed, verbose
        self.models: dict[int, object] = {}

    def _model(self, step: int):
        from ..models.omnilearn import OmniLearn

        if step not in self.models:
            model = OmniLearn(self.model_cfg, mode="classifier", seed=self.seed + 7 * step + self.collective.rank)
            if self.pretrained is not None:
                checkpoint.load_pretrained(model, self.pretrained)
            if self.collective.size > 1:
                distributed.make_distributed(model)
            self.models[step] = model
        return self.models[step]

    def config_for(self, iteration: int) -> TrainConfig:
        """The recipe in iteration 0; a constant ``later_lr`` (no warm-up) afterwards."""
        cfg = self.train_cfg.replace(mode="classifier", fine_tune=self.pretrained is not None)
        if iteration > 0:
            cfg = cfg.replace(lr=self.later_lr, lr_min=self.later_lr, warm_epoch=0)
        if self.collective.size > 1:
            cfg = cfg.replace(jit_compile=False)  # Horovod ops have no XLA kernels
        return cfg

    def _common_steps(self, n: int, batch: int) -> int:
        return int(self.collective.gather(np.array([n // batch])).min())

    def train(self, step, iteration, x, y, w, outdir) -> None:
        import keras
        import tensorflow as tf

        cfg = self.config_for(iteration)
        rng = np.random.default_rng([self.seed, iteration, step, self.collective.rank])
        order = rng.permutation(len(y))
        n_val = int(round(len(y) * self.val_fraction))
        arrays = dict(x, label=np.eye(2, dtype=np.float32)[y.astype(int)], weight=w.astype(np.float32))
        train = {k: v[order[n_val:]] for k, v in arrays.items()}
        val = {k: v[order[:n_val]] for k, v in arrays.items()}
        steps = self._common_steps(len(order) - n_val, cfg.batch)
        if steps < 1:
            raise ValueError(f"{len(order) - n_val} training events per worker are fewer than one batch of {cfg.batch}")
        val_steps = self._common_steps(n_val, cfg.batch)
        train_ds = (
            tf.data.Dataset.from_tensor_slices(train)
            .shuffle(len(order), seed=int(rng.integers(2**31)), reshuffle_each_iteration=True)
            .batch(cfg.batch, drop_remainder=True)
            .repeat()
        )
        val_ds = tf.data.Dataset.from_tensor_slices(val).batch(cfg.batch, drop_remainder=True) if val_steps else None
        keras.utils.set_random_seed(self.seed + 100 * iteration + step)
        model = self._model(step)
        callbacks = [distributed.BroadcastState()] if self.collective.size > 1 else []
        fit(
            model,
            train_ds,
            cfg,
            outdir,
            steps_per_epoch=steps,
            val_data=val_ds,
            validation_steps=val_steps or None,
            normalization=self.normalization[step],
            classes=CLASSES,
            data={"task": "omnifold", "step": step, "iteration": iteration, "pretrained": self.pretrained},
            num_workers=self.collective.size,
            rank=self.collective.rank,
            verbose=self.verbose if self.collective.rank == 0 else 0,
            resume=self.resume,
            extra_callbacks=callbacks,
        )
        self.restore(step, iteration, outdir)

    def restore(self, step, iteration, outdir) -> None:
        """Set classifier ``step`` to the ``best`` checkpoint of ``outdir``: rank 0 reads it and
        sends it to the others (only rank 0 writes, so another worker could read a half-written one)."""
        model = self._model(step)
        if self.collective.rank == 0:
            best = checkpoint.resolve(Path(outdir) / "best") or checkpoint.resolve(Path(outdir) / "last")
            if best is None:
                raise FileNotFoundError(f"no checkpoint in {outdir}: the step did not finish")
            checkpoint.load_pretrained(model, best)
        if self.collective.size > 1:
            distributed.broadcast_state(model)

    def predict(self, step, x) -> np.ndarray:
        return predict(self._model(step), x)


def predict(model, x: dict[str, np.ndarray], batch: int = 256) -> np.ndarray:
    """Probability of "data" (label 1) per event, ``(N,)``."""
    import tensorflow as tf

    fn = tf.function(lambda b: model(b, training=False))
    n = len(x["jet"])
    out = [fn({k: v[a : a + batch] for k, v in x.items()}).numpy()[:, 1] for a in range(0, n, batch)]
    return np.concatenate(out) if out else np.zeros(0)


@dataclass
class RunSettings:
    """What :func:`run` needs besides the model and training configurations."""

    data_dir: str
    outdir: str
    num_iter: int = 5
    num_particles: int | None = None
    pretrained: str | None = None
    later_lr: float = 1e-6
    clip: float = 10.0
    seed: int = 0
    max_events: int | None = None
    #: continue where a killed run stopped (False: train every step anew)
    resume: bool = True


def _load(data_dir, sample, split, level, num_particles, max_events, collective) -> Level:
    from ..data.paired import count_events

    path = paired_path(data_dir, sample, split)
    n = count_events(path) if max_events is None else min(max_events, count_events(path))
    mine = shard(n, collective.rank, collective.size)
    return read_level(path, level, num_particles, mine.start, mine.stop)


def run(
    settings: RunSettings, model_cfg: ModelConfig, train_cfg: TrainConfig, collective: Collective | None = None
) -> dict[str, np.ndarray]:
    """Train OmniFold on ``<data_dir>/{mc,data}_train.h5`` into ``outdir``; returns the weights."""
    collective = collective or Collective()
    start = time.perf_counter()
    levels = {
        (s, lvl): _load(settings.data_dir, s, "train", lvl, settings.num_particles, settings.max_events, collective)
        for s in CLASSES
        for lvl in LEVELS
    }
    norms = {}
    for step, lvl in ((1, "sim"), (2, "gen")):
        norms[step] = (
            checkpoint.load_normalization(settings.pretrained)
            if settings.pretrained is not None
            else statistics([levels[("mc", lvl)], levels[("data", lvl)]], collective)
        )
    steps = OmniLearnSteps(
        model_cfg,
        train_cfg,
        later_lr=settings.later_lr,
        normalization=norms,
        pretrained=settings.pretrained,
        collective=collective,
        seed=settings.seed,
        resume=settings.resume,
    )
    inputs = {key: model_inputs(lv, norms[1 if key[1] == "sim" else 2]) for key, lv in levels.items()}
    weights = omnifold(
        inputs[("mc", "gen")],
        inputs[("mc", "sim")],
        inputs[("data", "sim")],
        steps,
        settings.outdir,
        OmniFoldConfig(num_iter=settings.num_iter, clip=settings.clip),
        collective=collective,
        resume=settings.resume,
        log=print,
    )
    if collective.rank == 0:
        meta = {
            "settings": dataclasses.asdict(settings),
            "model": steps.model_cfg.to_dict(),
            "train": dataclasses.asdict(steps.train_cfg),
            "seconds": time.perf_counter() - start,
            "workers": collective.size,
        }
        tmp = Path(settings.outdir) / ".run.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1, default=str))
        os.replace(tmp, Path(settings.outdir) / "run.json")
    return weights


def apply_to_split(
    run_dir: str | os.PathLike, data_dir: str | os.PathLike, split: str = "test", max_events: int | None = None
) -> dict[str, np.ndarray]:
    """The run's classifiers applied to the MC events of ``split`` (one process): ``reweighted``
    (iteration 0, step 1, detector level: Table VIII) and ``unfolded`` (last iteration, step 2,
    particle level: Table IX), each a likelihood ratio normalised to mean 1."""
    from ..models.omnilearn import OmniLearn

    run_dir = Path(run_dir)
    done = json.loads((run_dir / "state.json").read_text())["done"]
    settings = json.loads((run_dir / "run.json").read_text())["settings"]
    last = max(i for i, s in done if s == 2)
    out = {}
    for name, (i, step, level) in {"reweighted": (0, 1, "sim"), "unfolded": (last, 2, "gen")}.items():
        step_dir = run_dir / f"iter{i}_step{step}"
        ckpt = checkpoint.resolve(step_dir / "best") or checkpoint.resolve(step_dir / "last")
        if ckpt is None:
            raise FileNotFoundError(f"no checkpoint in {step_dir}")
        model = OmniLearn.from_checkpoint(ckpt)
        lv = _load(data_dir, "mc", split, level, settings["num_particles"], max_events, Collective())
        f = predict(model, model_inputs(lv, checkpoint.load_normalization(ckpt)))
        out[name] = normalize(likelihood_ratio(f, clip=settings["clip"]))
    return out


def _history(path: Path) -> dict[str, list[float]]:
    """A ``history.csv`` as {column: values}; Keras writes "NA" for a step without validation."""
    import csv

    def number(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return float("nan")

    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [number(r[k]) for r in rows] for k in rows[0]} if rows else {}


#: run label → (weights name in the results, legend / table title)
RUN_LABELS = {"omnilearn": "OmniLearn", "scratch": "PET classifier"}


def evaluate(
    runs: dict[str, str | os.PathLike],
    data_dir: str | os.PathLike,
    plot_dir: str | os.PathLike,
    *,
    name: str = "omnifold_pythia",
    split: str = "test",
    toys: int = 100,
    seed: int = 0,
    max_events: int | None = None,
) -> dict:
    """Apply each run's classifiers (``runs``: label, e.g. ``omnilearn``/``scratch`` → run
    directory) to the MC events of ``split``; compare with the "data" truth.

    Writes into ``plot_dir``: ``<name>.json`` (histograms, Δ × 10³ ± toys, loss histories, wall
    times), ``<name>_reweighted.png`` (Fig. 7), ``<name>_unfolded.png`` (Fig. 9),
    ``<name>_losses.png`` (Fig. 8) and ``<name>_table.md`` (Tables VIII–IX beside ours).
    """
    from ..evaluation.results import write_json
    from ..evaluation.unfolding import compare
    from ..plotting import plot_losses, plot_unfolding
    from ..report import omnifold_tables

    plot_dir = Path(plot_dir)
    obs = {}
    for sample in CLASSES:
        for lvl in LEVELS:
            obs[(sample, lvl)] = _load(data_dir, sample, split, lvl, 1, max_events, Collective()).obs
    weights = {label: apply_to_split(d, data_dir, split, max_events) for label, d in runs.items()}
    results: dict = {"split": split, "events": {s: len(obs[(s, "gen")]) for s in CLASSES}, "runs": {}}
    results["reweighting"] = compare(
        obs[("mc", "sim")],
        obs[("data", "sim")],
        {"mc": None, **{label: w["reweighted"] for label, w in weights.items()}},
        toys=toys,
        seed=seed,
    )
    results["unfolding"] = compare(
        obs[("mc", "gen")],
        obs[("data", "gen")],
        {"mc": None, **{label: w["unfolded"] for label, w in weights.items()}},
        toys=toys,
        seed=seed,
    )
    histories = {}
    for label, d in runs.items():
        meta = json.loads((Path(d) / "run.json").read_text())
        # no machine paths in the results (they are committed): the run's settings and model only
        settings = {k: v for k, v in meta["settings"].items() if k not in ("data_dir", "outdir")}
        if settings.get("pretrained"):
            settings["pretrained"] = Path(settings["pretrained"]).name
        results["runs"][label] = {
            "seconds": meta["seconds"],
            "settings": settings,
            # the model as trained (its checkpoint), not the flags it was built from
            "model": checkpoint.read_meta(Path(d) / "iter0_step1" / "last")["model"],
            "train": {k: meta["train"][k] for k in ("batch", "epoch", "warm_epoch", "stop_epoch", "lr", "wd")},
        }
        history = Path(d) / "iter0_step1" / "history.csv"
        if history.exists():
            histories[RUN_LABELS.get(label, label)] = _history(history)
    results["histories"] = histories
    write_json(results, plot_dir / f"{name}.json")
    labels = {"mc": "MC", **{label: RUN_LABELS.get(label, label) for label in runs}}
    plot_unfolding(results["reweighting"], plot_dir / f"{name}_reweighted.png", "Reweighting (detector level)", labels)
    plot_unfolding(results["unfolding"], plot_dir / f"{name}_unfolded.png", "Unfolding (particle level)", labels)
    if histories:
        plot_losses({"OmniFold iteration 0, step 1": histories}, plot_dir / f"{name}_losses.png")
    (plot_dir / f"{name}_table.md").write_text(omnifold_tables(results, labels) + "\n")
    return results
