"""Classifier inference throughput (jets/s) of OmniLearn on JetClass-like inputs.

    python benchmarks/inference_throughput.py                         # paper model, trimmed padding, XLA
    python benchmarks/inference_throughput.py --trim 0,16 --jit 0,1
    python benchmarks/inference_throughput.py --data data/pythia/test.h5

Times ``model.predict_on_batch`` (what the evaluation calls) on batches of ``--batch`` (256)
generated jets, multiplicity ~N(40, 16) padded to ``--particles`` (150), 13 features,
10 classes; jets/s at the median, slowest and fastest of ``--steps`` batches after a warm-up
pass.  ``--modes`` is ignored (always the classifier).  See :mod:`omnilearn.benchmarks`.
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
    ap.set_defaults(modes="classifier", steps=20)
    args = ap.parse_args(argv)
    benchmarks.report(benchmarks.run_inference(args), args.json)


if __name__ == "__main__":
    main()
