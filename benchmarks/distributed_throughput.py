"""Data-parallel training throughput: jets/s with 1 and 2 Horovod processes, and scaling efficiency.

    python benchmarks/distributed_throughput.py                       # paper-size model, mode all
    python benchmarks/distributed_throughput.py --projection_dim 64 --num_layers 4 --particles 50

Writes a synthetic unified file (``benchmarks/input_pipeline.py``), then times real training
steps (LION, the trainer's optimizers, allreduced gradients) through the normal loader, once as
a single process and once per entry of ``--processes`` under ``horovodrun --gloo``.  Each
worker keeps the per-process batch (weak scaling, as in the paper: 256 jets per GPU), so

    efficiency(N) = jets/s(N) / (N x jets/s(1)).

On one CPU machine the processes share the cores (``--threads`` per process defaults to
cores / N), so this measures Horovod's overhead more than real multi-GPU scaling.  The first
``--warmup`` steps (tracing, buffer fill) are not timed.  Needs Horovod
(``scripts/install_horovod.sh``) for N > 1; Horovod settings pass through the environment
(on CPU, ``HOROVOD_CYCLE_TIME=50`` cut the background thread's overhead: see
README, "Running at scale").
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from omnilearn.cli import flags  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = flags.ArgumentParser(description=__doc__)
    ap.add_argument("--processes", default="1,2", help="comma-separated process counts to time")
    ap.add_argument("--mode", default="all", choices=("classifier", "generator", "all"))
    ap.add_argument("--batch", type=int, default=64, help="jets per process and step (paper: 256 per GPU)")
    ap.add_argument("--particles", type=int, default=150)
    ap.add_argument("--steps", type=int, default=8, help="timed steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=0, help="TF threads per process (0: cores / processes)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/omnilearn_dist_bench"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    flags.add_model_args(ap)
    return ap.parse_args(argv)


def _synthetic_file(args: argparse.Namespace, jets: int) -> Path:
    spec = importlib.util.spec_from_file_location("input_pipeline", HERE / "input_pipeline.py")
    pipeline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pipeline)
    path = args.workdir / f"synthetic_{jets}x{args.particles}.h5"
    if not path.exists():
        pipeline.write_synthetic(path, jets, args.particles)
    return path


def worker(args: argparse.Namespace) -> None:
    """One process: time ``--steps`` training steps after ``--warmup``; rank 0 prints the result."""
    import tensorflow as tf

    from omnilearn.training import distributed

    ctx = distributed.init()
    threads = args.threads or max(1, (os.cpu_count() or 1) // ctx.size)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))

    import keras

    from omnilearn.config import TrainConfig
    from omnilearn.data.loader import JetLoader
    from omnilearn.models.omnilearn import OmniLearn
    from omnilearn.training.optimizers import make_optimizers

    path = args.workdir / f"synthetic_{args.jets}x{args.particles}.h5"
    loader = JetLoader(
        path, args.batch, shuffle=True, repeat=True, drop_remainder=True, rank=ctx.rank, num_workers=ctx.size
    )
    cfg = flags.model_config(args).replace(num_classes=loader.num_classes, num_feat=loader.num_features)
    model = OmniLearn(cfg, mode=args.mode, seed=ctx.rank)
    callbacks: list[keras.callbacks.Callback] = []
    if ctx.distributed:
        distributed.make_distributed(model)
        callbacks.append(distributed.BroadcastState())
    total = args.warmup + args.steps
    head, body = make_optimizers(TrainConfig(mode=args.mode, epoch=1, warm_epoch=0), total, ctx.size)
    model.compile(optimizer=head, body_optimizer=body, jit_compile=False)

    class Clock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []

        def on_train_batch_end(self, batch, logs=None):
            float(logs["loss"])  # wait for the step to finish
            self.times.append(time.perf_counter())

    clock = Clock()
    model.fit(loader.dataset(), epochs=1, steps_per_epoch=total, callbacks=callbacks + [clock], verbose=0)
    elapsed = clock.times[-1] - clock.times[args.warmup - 1] if args.warmup else clock.times[-1] - clock.times[0]
    timed = args.steps if args.warmup else args.steps - 1
    if ctx.is_root:
        jets_per_s = ctx.size * args.batch * timed / elapsed
        print(
            "RESULT "
            + json.dumps(
                {"processes": ctx.size, "threads": threads, "jets_per_s": jets_per_s, "step_s": elapsed / timed}
            ),
            flush=True,
        )


def _launch(args: argparse.Namespace, n: int, argv: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *argv]
    if n > 1:
        horovodrun = Path(sys.executable).parent / "horovodrun"
        horovodrun = str(horovodrun) if horovodrun.exists() else shutil.which("horovodrun")
        if horovodrun is None:
            raise SystemExit("horovodrun not found: build Horovod with scripts/install_horovod.sh")
        cmd = [horovodrun, "-np", str(n), "-H", f"localhost:{n}", "--gloo", *cmd]
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    if n == 1:
        env["OMNILEARN_NO_HOROVOD"] = "1"  # a plain process, no Horovod at all
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if "RESULT " in line]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"{n} process(es) failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(lines[-1].split("RESULT ", 1)[1])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    counts = [int(n) for n in args.processes.split(",")]
    # enough jets for every process to fill its shard's shuffle buffer once
    args.jets = max(counts) * max(4 * args.batch, 2048)
    if args.worker:
        return worker(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    _synthetic_file(args, args.jets)
    print(
        f"mode {args.mode}, {args.batch} jets/process/step, {args.particles} particles, "
        f"width {args.projection_dim}, {args.num_layers} layers; {os.cpu_count()} cores"
    )
    results = {n: _launch(args, n, argv) for n in counts}
    base = results[counts[0]]["jets_per_s"] / counts[0]
    print(f"{'processes':>9} {'threads':>7} {'jets/s':>10} {'s/step':>8} {'efficiency':>10}")
    for n, r in results.items():
        print(
            f"{n:>9} {r['threads']:>7} {r['jets_per_s']:>10.1f} {r['step_s']:>8.3f} "
            f"{r['jets_per_s'] / (n * base):>10.2f}"
        )


if __name__ == "__main__":
    main()
