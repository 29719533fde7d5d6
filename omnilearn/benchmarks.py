"""Throughput measurements behind the scripts in ``benchmarks/`` (training, inference, sampling).

Inputs are generated like JetClass as the performance issue specifies: multiplicities
~Gamma(mean 40, sd 16) clipped to [1, P], padded to P = 150, 13 particle features (kinematics, charge,
one-hot PID), 10 classes.  A fixed set of distinct batches is cycled; the first pass over
them is the warm-up (tracing and one XLA compilation per distinct particle-axis length), so
the timed steps measure the steady state.  Each step is synchronised (its loss or output is
read back) and timed on its own; results give jets/s at the median, slowest and fastest step,
and the peak RSS of the process while that configuration ran (:func:`peak_rss`).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is first imported

#: mean and standard deviation of the generated jets' multiplicity (a Gamma, JetClass-like)
MULTIPLICITY = (40.0, 16.0)


def multiplicities(rng: np.random.Generator, n: int, num_particles: int) -> np.ndarray:
    """``n`` multiplicities ~Gamma(mean 40, sd 16), rounded and clipped to [1, P] (int64)."""
    mean, sd = MULTIPLICITY
    shape, scale = (mean / sd) ** 2, sd * sd / mean
    return np.clip(np.rint(rng.gamma(shape, scale, n)), 1, num_particles).astype(np.int64)


def reset_peak_rss() -> bool:
    """Reset the process's peak RSS (Linux ``/proc/self/clear_refs``); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss() -> float:
    """Peak resident memory of this process in GiB since the last :func:`reset_peak_rss`
    (``VmHWM``; else ``getrusage``'s peak since the start)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def synthetic_chunk(rng: np.random.Generator, n: int, num_particles: int, num_classes: int = 10):
    """``n`` raw jets in the unified format: data (n, P, 13), jet (n, 4), pid (n,).

    Multiplicities from :func:`multiplicities`; random kinematics, charge in {-1, 0, 1} and
    one PID flag per particle; padding exactly zero; jet pT, η, mass, multiplicity.
    """
    mult = multiplicities(rng, n, num_particles)
    real = np.arange(num_particles)[None, :] < mult[:, None]
    data = rng.standard_normal((n, num_particles, 13), dtype=np.float32)
    data[..., 7:] = 0.0
    data[..., 7] = rng.integers(-1, 2, (n, num_particles))
    data[np.arange(n)[:, None], np.arange(num_particles)[None, :], 8 + rng.integers(0, 5, (n, num_particles))] = 1.0
    data[~real] = 0.0
    jet = np.stack([rng.uniform(500, 1000, n), rng.uniform(-2, 2, n), rng.uniform(0, 250, n), mult], axis=-1).astype(
        np.float32
    )
    return data, jet, rng.integers(0, num_classes, n).astype(np.int32)


def synthetic_batches(
    num_batches: int,
    batch: int,
    num_particles: int = 150,
    num_classes: int = 10,
    seed: int = 0,
    bucket: bool = False,
) -> list[dict[str, np.ndarray]]:
    """Model-ready batches (normalised real particles, zero padding) of generated jets.

    With ``bucket``, batches are what the loader's ``bucket`` option draws: ``batch``
    consecutive jets in multiplicity order out of a shuffle buffer of 8192 jets, here at
    evenly spaced positions of that order (so the batches span the multiplicity range).
    """
    from .data.loader import DEFAULT_SHUFFLE_BUFFER

    rng = np.random.default_rng(seed)
    pool = max(DEFAULT_SHUFFLE_BUFFER, num_batches * batch) if bucket else num_batches * batch
    data, jet, pid = synthetic_chunk(rng, pool, num_particles, num_classes)
    if bucket:
        order = np.argsort((np.abs(data).sum(-1) > 0).sum(1), kind="stable")
        starts = ((np.arange(num_batches) + 0.5) / num_batches * (pool - batch)).astype(int)
        rows = np.concatenate([order[a : a + batch] for a in starts])
        data, jet, pid = data[rows], jet[rows], pid[rows]
    mask = (np.abs(data).sum(-1) > 0).astype(np.float32)
    real = data[mask > 0]
    std = np.where(real.std(0) > 0, real.std(0), 1.0)
    data = ((data - real.mean(0)) / std * mask[..., None]).astype(np.float32)
    jet = ((jet - jet.mean(0)) / jet.std(0)).astype(np.float32)
    arrays = {
        "particles": data,
        "mask": mask,
        "jet": jet,
        "label": np.eye(num_classes, dtype=np.float32)[pid],
        "weight": np.ones(len(pid), np.float32),
    }
    return [{k: v[i * batch : (i + 1) * batch] for k, v in arrays.items()} for i in range(num_batches)]


def batch_dataset(batches: list[dict[str, np.ndarray]], trim: int = 0):
    """A repeating ``tf.data`` pipeline over ``batches``, padding cut as in the loader when ``trim``."""
    import tensorflow as tf

    from .data.padding import trim_padding

    ds = tf.data.Dataset.from_tensor_slices({k: np.stack([b[k] for b in batches]) for k in batches[0]})
    if trim:
        ds = ds.map(lambda b: trim_padding(b, trim))
    return ds.repeat().prefetch(2)


@dataclass
class Timing:
    """Per-step wall times (s) of the timed steps, and of the whole warm-up."""

    step_seconds: np.ndarray
    warmup_seconds: float
    batch: int

    def jets_per_s(self) -> dict[str, float]:
        rate = self.batch / self.step_seconds
        return {"median": float(np.median(rate)), "min": float(rate.min()), "max": float(rate.max())}

    def row(self) -> dict:
        mean = self.batch * len(self.step_seconds) / float(np.sum(self.step_seconds))
        return {
            "jets_per_s_mean": round(mean, 2),
            **{f"jets_per_s_{k}": round(v, 2) for k, v in self.jets_per_s().items()},
            "step_s_median": round(float(np.median(self.step_seconds)), 4),
            "warmup_s": round(self.warmup_seconds, 1),
            "steps": len(self.step_seconds),
            "batch": self.batch,
        }


def time_training(model, dataset, steps: int, warmup: int, batch: int) -> Timing:
    """Run ``warmup + steps`` real training steps through ``model.fit``; time each one."""
    import keras

    class Clock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []

        def on_train_begin(self, logs=None):
            self.times.append(time.perf_counter())

        def on_train_batch_end(self, step, logs=None):
            float(logs["loss"])  # wait for the step to finish
            self.times.append(time.perf_counter())

    clock = Clock()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup + steps, callbacks=[clock], verbose=0, shuffle=False)
    t = np.asarray(clock.times)
    return Timing(np.diff(t)[warmup:], float(t[warmup] - t[0]), batch)


def training_model(model_cfg, train_cfg, total_steps: int, seed: int = 0):
    """An OmniLearn model compiled as the trainer does (LION, body/head split when fine-tuning)."""
    from .models.omnilearn import OmniLearn
    from .training.optimizers import make_optimizers

    model = OmniLearn(model_cfg, mode=train_cfg.mode, seed=seed, mixed_precision=train_cfg.mixed_precision)
    head, body = make_optimizers(train_cfg, total_steps)
    model.compile(
        optimizer=head, body_optimizer=body, jit_compile=train_cfg.jit_compile, accum_steps=train_cfg.accum_steps
    )
    return model


def time_inference(model, dataset, steps: int, warmup: int, batch: int) -> Timing:
    """Classifier inference as the evaluation runs it (``predict_on_batch``); time each batch."""
    it = iter(dataset)
    t0 = time.perf_counter()
    for _ in range(warmup):
        np.asarray(model.predict_on_batch(next(it)))
    t1 = time.perf_counter()
    times = []
    for _ in range(steps):
        b = next(it)
        start = time.perf_counter()
        np.asarray(model.predict_on_batch(b))
        times.append(time.perf_counter() - start)
    return Timing(np.asarray(times), t1 - t0, batch)


def format_table(rows: list[dict], keys: list[str]) -> str:
    """A Markdown table of ``rows`` with the columns ``keys``."""
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(
    doc: str,
    run: Callable[[argparse.Namespace], list[dict]],
    argv: list[str] | None = None,
    extra_args: Callable[[argparse.ArgumentParser], None] | None = None,
    **defaults,
) -> None:
    """A benchmark script: parse the shared flags (plus ``extra_args``, with ``defaults``), time
    with ``run``, print the table and append it to ``--json``."""
    from .cli.flags import ArgumentParser

    ap = ArgumentParser(description=doc)
    add_args(ap)
    if extra_args:
        extra_args(ap)
    ap.set_defaults(**defaults)
    args = ap.parse_args(argv)
    report(run(args), args.json)


def add_sampling_args(parser) -> None:
    """Flags of the sampling benchmark (on top of :func:`add_args`)."""
    parser.add_argument("--sample_steps", default="4,16,64", help="comma-separated sampler step counts")
    parser.add_argument("--repeats", type=int, default=1, help="extra batches whose cost is measured")
    parser.add_argument("--solver", default="dpm2m", choices=("dpm2m", "ddim"), help="sampler (same cost per step)")
    parser.add_argument("--guidance", type=float, default=0.0, help="classifier-free guidance strength w")


def add_args(parser) -> None:
    """Flags shared by the training and inference benchmarks (model flags: :mod:`omnilearn.cli.flags`)."""
    from .cli import flags

    g = parser.add_argument_group("benchmark")
    g.add_argument("--modes", default="all,classifier", help="comma-separated training modes to time")
    g.add_argument("--batch", type=int, default=256)
    g.add_argument("--particles", type=int, default=150, help="padded particle axis P")
    g.add_argument("--trim", default="16", help="comma-separated padding-trim multiples to time (0: no trim)")
    g.add_argument("--jit", default="1", help="comma-separated XLA settings to time (1: on, 0: off)")
    g.add_argument("--steps", type=int, default=10, help="timed steps")
    g.add_argument("--distinct", type=int, default=4, help="distinct generated batches, cycled (warm-up = one pass)")
    g.add_argument("--data", nargs="*", help="unified files (e.g. data/pythia/train.h5) instead of generated jets")
    g.add_argument(
        "--model_size",
        choices=("paper", "quickstart"),
        default="paper",
        help="paper: the paper's configuration (or the model flags); quickstart: its small PET",
    )
    g.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0: TF's default)")
    g.add_argument(
        "--bucket",
        action="store_true",
        help="batches of similar multiplicity, as the loader's bucket option draws them",
    )
    g.add_argument("--mixed_precision", action="store_true", help="bfloat16 compute (a GPU option; not exact)")
    g.add_argument("--accum_steps", type=int, default=1, help="micro-batches per training batch (one update)")
    g.add_argument("--json", help="append the result rows to this JSON-lines file")
    flags.add_model_args(parser)


def _split(text: str, cast=int) -> list:
    return [cast(x) for x in str(text).split(",") if x.strip()]


def configurations(args) -> list[dict]:
    """Every (mode, trim, jit) combination the flags ask for, with its model configuration."""
    from .cli import flags
    from .workflows.quickstart import QuickstartConfig

    modes = _split(args.modes, str)
    for mode in modes:
        if mode not in ("classifier", "generator", "all"):
            raise SystemExit(f"unknown mode {mode!r}")
    out = []
    for mode in modes:
        args.mode = mode
        cfg = flags.model_config(args)  # feature drop 0.2 in mode 'all', as when training
        if args.model_size == "quickstart":
            cfg = QuickstartConfig().model.replace(feature_drop=cfg.feature_drop)
        for trim in _split(args.trim):
            for jit in _split(args.jit):
                out.append({"mode": mode, "trim": trim, "jit": bool(jit), "model": cfg})
    return out


def _particles(args) -> int:
    """The particle axis: ``--num_particles`` (the model flag) where given, else ``--particles``."""
    return getattr(args, "num_particles", None) or args.particles


def _inputs(args, trim: int, num_classes: int = 10):
    """(dataset, warm-up steps): the generated batches, or the unified files through the loader."""
    particles = _particles(args)
    if args.data:
        from .data.loader import JetLoader

        loader = JetLoader(
            args.data,
            args.batch,
            shuffle=True,
            repeat=True,
            drop_remainder=True,
            num_particles=particles,
            trim_padding=trim,
            num_classes=num_classes,
            bucket=args.bucket,
        )
        return loader.dataset(), max(args.distinct, 3)
    batches = synthetic_batches(args.distinct, args.batch, particles, num_classes, bucket=args.bucket)
    return batch_dataset(batches, trim), args.distinct


def _setup(args) -> None:
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)


def _num_classes(args) -> int:
    if not args.data:
        return 10
    from .data.format import inspect_file

    return len(inspect_file(args.data[0]).classes)


def _release() -> None:
    """Free the previous configuration's models and start a new peak-RSS window."""
    import gc

    import keras

    keras.backend.clear_session()
    gc.collect()
    reset_peak_rss()


def _time_configurations(args, kind: str, timed: Callable) -> list[dict]:
    """One result row per configuration: ``timed(c, model_cfg, dataset, warmup)`` → :class:`Timing`."""
    _setup(args)
    rows = []
    num_classes = _num_classes(args)
    for c in configurations(args):
        _release()
        dataset, warmup = _inputs(args, c["trim"], num_classes)
        timing = timed(c, c["model"].replace(num_classes=num_classes), dataset, warmup)
        rows.append({**_row(kind, args, c, timing), "peak_rss_gib": round(peak_rss(), 2)})
        print(rows[-1], flush=True)
    return rows


def run_training(args) -> list[dict]:
    """Time training steps for every configuration; ``classifier`` is the fine-tuning step."""
    from .config import TrainConfig

    def timed(c, model_cfg, dataset, warmup):
        train_cfg = TrainConfig(
            mode=c["mode"],
            batch=args.batch,
            epoch=1,
            warm_epoch=0,
            jit_compile=c["jit"],
            fine_tune=c["mode"] == "classifier",
            trim_padding=c["trim"],
            mixed_precision=args.mixed_precision,
            accum_steps=args.accum_steps,
        )
        model = training_model(model_cfg, train_cfg, warmup + args.steps)
        return time_training(model, dataset, args.steps, warmup, args.batch)

    return _time_configurations(args, "train", timed)


def run_inference(args) -> list[dict]:
    """Time classifier inference (``predict_on_batch``) for every (trim, jit) configuration."""
    from .models.omnilearn import OmniLearn

    args.modes = "classifier"

    def timed(c, model_cfg, dataset, warmup):
        model = OmniLearn(model_cfg, mode="classifier", mixed_precision=args.mixed_precision)
        model.compile(jit_compile=c["jit"])
        return time_inference(model, dataset, args.steps, warmup, args.batch)

    return _time_configurations(args, "inference", timed)


def _row(kind: str, args, c: dict, timing: Timing) -> dict:
    return {
        "what": kind,
        "mode": c["mode"],
        "trim": c["trim"],
        "jit": int(c["jit"]),
        "model": args.model_size,
        "particles": _particles(args),
        "bucket": int(args.bucket),
        "bf16": int(args.mixed_precision),
        "recompute": c["model"].recompute,
        "accum": args.accum_steps if kind == "train" else 1,
        "inputs": "files" if args.data else "generated",
        **timing.row(),
    }


def report(rows: list[dict], json_path: str | None = None) -> None:
    """Print the rows as one Markdown table; append them to ``json_path`` (JSON lines) if given."""
    import json

    print()
    print(format_table(rows, list(rows[0])))
    if json_path:
        with open(json_path, "a") as f:
            for r in rows:
                f.write(json.dumps({**r, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n")


def run_sampling(args) -> list[dict]:
    """Seconds per generated jet of diffusion sampling (:mod:`omnilearn.generation.sampler`) vs steps.

    One batch of ``--batch`` jets with the generated multiplicities (mask, jet features and
    labels as conditions), padding trimmed like training batches when ``--trim`` > 0.  The
    sampler traces its graph on every call (a few seconds: its step loop is a ``tf.while_loop``),
    so per step count it is called on 1 and on 1 + ``--repeats`` copies of the batch; the
    difference is the cost of ``--repeats`` batches.  An untimed call comes first.
    """
    from .data.padding import trimmed_length
    from .generation.sampler import sample_particles
    from .models.omnilearn import OmniLearn

    _setup(args)
    rows = []
    args.modes = "generator"
    for c in configurations(args):
        _release()
        batch = synthetic_batches(1, args.batch, args.particles, 10, bucket=args.bucket)[0]
        mask = batch["mask"]
        if c["trim"]:
            mask = mask[:, : int(trimmed_length(mask, c["trim"]))]
        model = OmniLearn(c["model"].replace(num_classes=10), mode="generator", mixed_precision=args.mixed_precision)
        reps = max(1, args.repeats)
        sample_particles(model, batch["jet"], batch["label"], mask, steps=1, progress=False)  # one-time set-up
        for steps in _split(args.sample_steps):

            def sample(copies, model=model, batch=batch, mask=mask, steps=steps):
                tile = lambda a: np.concatenate([a] * copies)  # noqa: E731
                sample_particles(
                    model,
                    tile(batch["jet"]),
                    tile(batch["label"]),
                    tile(mask),
                    steps=steps,
                    guidance=args.guidance,
                    solver=args.solver,
                    batch_size=args.batch,
                    progress=False,
                )

            # Every call traces anew; the difference of two calls is the cost of `reps` batches.
            # The first call of a step count is untimed (its trace was slower than later ones).
            ta = time.perf_counter()
            sample(1)
            t0 = time.perf_counter()
            sample(1)
            t1 = time.perf_counter()
            sample(1 + reps)
            t2 = time.perf_counter()
            per_batch = ((t2 - t1) - (t1 - t0)) / reps
            rows.append(
                {
                    "what": "sampling",
                    "solver": args.solver,
                    "steps": steps,
                    "guidance": args.guidance,
                    "trim": c["trim"],
                    "particles_kept": mask.shape[1],
                    "model": args.model_size,
                    "batch": args.batch,
                    "s_per_jet": round(per_batch / args.batch, 4),
                    "jets_per_s": round(args.batch / per_batch, 2),
                    "ms_per_jet_per_step": round(1e3 * per_batch / args.batch / steps, 2),
                    "first_call_s": round(t0 - ta, 1),
                    "peak_rss_gib": round(peak_rss(), 2),
                }
            )
            print(rows[-1], flush=True)
    return rows
