"""Input-pipeline benchmark: write a synthetic unified file, stream it once, report jets/s.

    python benchmarks/input_pipeline.py --jets 200000 --particles 150 --batch 256 --workdir /tmp/bench
    python benchmarks/input_pipeline.py --jets 600000 --trim 16 --bucket   # a 4.7 GB file, as training reads it

Multiplicities follow ~Gamma(mean 40, sd 16) clipped to [1, P], like JetClass; the 13 features are random
but shaped like the real ones (one-hot PID flags, zero padding). Peak RSS is the process high
water mark (VmHWM), so the file write is included; the growth during streaming is printed too.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def _vm_kib(field: str) -> int:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def write_synthetic(path: Path, num_jets: int, num_particles: int, seed: int = 0) -> Path:
    from omnilearn.benchmarks import synthetic_chunk
    from omnilearn.data.format import UnifiedWriter

    rng = np.random.default_rng(seed)
    classes = [f"class{i}" for i in range(10)]
    with UnifiedWriter(path, num_particles=num_particles, classes=classes) as w:
        for start in range(0, num_jets, 8192):
            w.append(*synthetic_chunk(rng, min(8192, num_jets - start), num_particles))
    return path


def main() -> None:
    from omnilearn.cli.flags import ArgumentParser

    ap = ArgumentParser(description=__doc__)
    ap.add_argument("--jets", type=int, default=100_000)
    ap.add_argument("--particles", type=int, default=150)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/omnilearn_bench"))
    ap.add_argument("--epochs", type=int, default=1, help="epochs to stream (the first includes start-up)")
    ap.add_argument("--no_shuffle", action="store_true", help="stream in file order")
    ap.add_argument("--keep", action="store_true", help="reuse an existing file of the same size")
    ap.add_argument("--trim", type=int, default=0, help="trim_padding multiple, as in training (0: off)")
    ap.add_argument("--bucket", action="store_true", help="batches of similar multiplicity (needs shuffling)")
    args = ap.parse_args()

    from omnilearn.data.loader import JetLoader

    path = args.workdir / f"synthetic_{args.jets}x{args.particles}.h5"
    if not (args.keep and path.exists()):
        t0 = time.perf_counter()
        write_synthetic(path, args.jets, args.particles)
        print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f} s")

    loader = JetLoader(path, args.batch, shuffle=not args.no_shuffle, trim_padding=args.trim, bucket=args.bucket)
    print(
        f"loader: batch {args.batch}, chunk {loader.chunk_size}, shuffle buffer "
        f"{loader.shuffle_buffer if loader.shuffle else 0}, trim {args.trim}, bucket {int(args.bucket)}, "
        f"{loader.steps_per_epoch} steps/epoch"
    )
    ds = loader.dataset()
    rss0 = peak_stream = _vm_kib("VmRSS")
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        seen = 0
        for batch in ds:
            seen += int(batch["label"].shape[0])
            peak_stream = max(peak_stream, _vm_kib("VmRSS"))
        dt = time.perf_counter() - t0
        assert seen == args.jets, (seen, args.jets)
        print(
            f"epoch {epoch}: {seen} jets in {dt:.2f} s: {seen / dt:,.0f} jets/s, "
            f"{seen / dt / args.batch:,.0f} batches/s"
        )
    print(
        f"RSS growth while streaming: {(peak_stream - rss0) / 1024:.0f} MiB; "
        f"peak RSS of the process (includes writing the file and TF): {_vm_kib('VmHWM') / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
