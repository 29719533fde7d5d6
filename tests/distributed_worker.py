"""One worker of the data-parallel test, run by ``tests/test_distributed.py`` under::

    horovodrun -np 2 -H localhost:2 --gloo python tests/distributed_worker.py --data D --out O --probe P

Two phases, each recording what the test checks into ``<probe>/`` (never into ``<out>``):

1. ``sgd_rank<r>.npz``: the first (unshuffled) batch of this rank's shard, the weights after
   the initial broadcast and after one SGD step of a data-parallel model; the test repeats
   that step in one process on both ranks' batches concatenated.
2. ``train_rank<r>.npz``: a real run of ``omnilearn train`` (LION, mode classifier, 2 epochs)
   with, for every step, this rank's weights and the normalised jet pT of the batch it
   trained on (identifies the jets), and ``writes_rank<r>.txt``: every file-system write
   this process made under ``<out>`` (Python audit events).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import omnilearn.training.run as run_module  # noqa: E402
from omnilearn.config import ModelConfig  # noqa: E402
from omnilearn.data.loader import JetLoader  # noqa: E402
from omnilearn.models.omnilearn import OmniLearn  # noqa: E402
from omnilearn.training import distributed  # noqa: E402

#: The tiny model of the test (also built by the test for the single-process reference).
TINY = dict(
    projection_dim=16,
    num_layers=1,
    num_heads=2,
    K=3,
    num_class_layers=1,
    num_gen_layers=1,
    num_fourier=16,
    feature_drop=0.0,
    dropout=0.0,
)
SGD_LR = 0.5


def flat_weights(model: keras.Model) -> np.ndarray:
    return np.concatenate([np.asarray(v).ravel() for v in model.weights])


class Probe(keras.callbacks.Callback):
    """Records the weights at train begin and after every step, and the current epoch."""

    def __init__(self):
        super().__init__()
        self.epoch = 0
        self.weights: list[np.ndarray] = []

    def on_train_begin(self, logs=None):
        self.weights.append(flat_weights(self.model))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(flat_weights(self.model))


def sgd_phase(ctx: distributed.DistContext, data: Path, probe_dir: Path, batch_size: int) -> None:
    loader = JetLoader(
        [data / "train.h5"], batch_size, shuffle=False, drop_remainder=True, rank=ctx.rank, num_workers=ctx.size
    )
    batch = {k: np.array(v) for k, v in next(iter(loader.epoch_batches(0))).items()}  # copy: pooled memory
    cfg = ModelConfig(num_classes=loader.num_classes, num_feat=loader.num_features, **TINY)
    model = distributed.make_distributed(OmniLearn(cfg, mode="classifier", seed=ctx.rank))
    model.compile(optimizer=keras.optimizers.SGD(SGD_LR), jit_compile=False)
    probe = Probe()
    model.fit(
        tf.data.Dataset.from_tensors(batch),
        epochs=1,
        steps_per_epoch=1,
        verbose=0,
        callbacks=[distributed.BroadcastState(), probe],
    )
    np.savez(
        probe_dir / f"sgd_rank{ctx.rank}.npz",
        initial=probe.weights[0],
        after=probe.weights[1],
        **{f"batch_{k}": v for k, v in batch.items()},
    )


def train_phase(ctx: distributed.DistContext, data_dir: Path, out: Path, probe_dir: Path, batch_size: int) -> None:
    out_prefix = str(out.resolve())
    writes: list[str] = []

    def audit(event: str, args: tuple) -> None:
        # Python-level writes (open for writing, mkdir, rename, remove) under the run directory.
        if event == "open" and isinstance(args[0], (str, os.PathLike)):
            mode = args[1] if isinstance(args[1], str) else ""
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0 else 0
            if not (set(mode) & set("wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)):
                return
        elif event not in ("os.mkdir", "os.rename", "os.remove", "os.rmdir", "shutil.rmtree"):
            return
        paths = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
        for p in paths:
            p = os.fsdecode(p)
            if os.path.abspath(p).startswith(out_prefix):
                writes.append(f"{event} {p}")

    sys.addaudithook(audit)

    probe = Probe()
    seen: list[tuple[int, np.ndarray]] = []
    original_step = OmniLearn.train_step

    def logged_step(self, batch):
        def record(pt):
            seen.append((probe.epoch, pt.numpy().copy()))
            return np.int32(0)

        tf.py_function(record, [batch["jet"][:, 0]], tf.int32)
        return original_step(self, batch)

    OmniLearn.train_step = logged_step
    original_fit = run_module.fit

    def fit_with_probe(*args, **kwargs):
        kwargs["extra_callbacks"] = list(kwargs.get("extra_callbacks") or []) + [probe]
        return original_fit(*args, **kwargs)

    run_module.fit = fit_with_probe

    from omnilearn.cli import main as omnilearn

    small = [f"--{k}={v}" for k, v in TINY.items() if k not in ("num_fourier", "dropout")]
    omnilearn(
        [
            "train",
            "--dataset",
            "toptag_pythia",
            "--data_dir",
            str(data_dir),
            "--outdir",
            str(out),
            "--mode",
            "classifier",
            "--batch",
            str(batch_size),
            "--epoch",
            "2",
            "--warm_epoch",
            "0",
            "--lr",
            "1e-3",
            *small,
        ]
    )
    np.savez(
        probe_dir / f"train_rank{ctx.rank}.npz",
        weights=np.stack(probe.weights),
        epochs=np.array([e for e, _ in seen]),
        pt=np.stack([pt for _, pt in seen]),
    )
    (probe_dir / f"writes_rank{ctx.rank}.txt").write_text("".join(w + "\n" for w in writes))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True, help="data_dir holding toptag_pythia/{train,val}.h5")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--probe", type=Path, required=True)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    ctx = distributed.init()
    args.probe.mkdir(parents=True, exist_ok=True)
    (args.probe / f"context_rank{ctx.rank}.txt").write_text(f"{ctx.rank} {ctx.size} {ctx.local_rank}\n")
    sgd_phase(ctx, args.data / "toptag_pythia", args.probe, args.batch)
    train_phase(ctx, args.data, args.out, args.probe, args.batch)


if __name__ == "__main__":
    main()
