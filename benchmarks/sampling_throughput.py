"""Diffusion sampling cost per jet vs the number of sampler steps (OmniLearn's generator head).

    python benchmarks/sampling_throughput.py                          # paper model, 4/16/64 steps (DPM-Solver++ 2M)
    python benchmarks/sampling_throughput.py --sample-steps 8,32 --guidance 1 --trim 0,16

Generates the particles of ``--batch`` jets (multiplicity ~N(40, 16) padded to
``--particles``; jet features and labels as conditions) with
:func:`omnilearn.generation.sampler.sample_particles` and prints seconds per jet, jets/s and
ms per jet per step (every step is one body + generator pass; guidance doubles it).  The
sampler traces on every call; the cost per batch is the difference between calls on
1 and 1 + ``--repeats`` batches (the first call's time, tracing included, is reported too).  See
:mod:`omnilearn.benchmarks`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omnilearn import benchmarks  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    benchmarks.add_args(ap)
    ap.add_argument("--sample-steps", default="4,16,64", help="comma-separated sampler step counts")
    ap.add_argument("--repeats", type=int, default=1, help="extra batches whose cost is measured")
    ap.add_argument("--solver", default="dpm2m", choices=("dpm2m", "ddim"), help="sampler (same cost per step)")
    ap.add_argument("--guidance", type=float, default=0.0, help="classifier-free guidance strength w")
    ap.set_defaults(batch=128, jit="1")
    args = ap.parse_args(argv)
    benchmarks.report(benchmarks.run_sampling(args), args.json)


if __name__ == "__main__":
    main()
