"""Classifier inference throughput (jets/s) of OmniLearn on JetClass-like inputs.

    python benchmarks/inference_throughput.py                         # paper model, trimmed padding, XLA
    python benchmarks/inference_throughput.py --trim 0,16 --jit 0,1
    python benchmarks/inference_throughput.py --data data/pythia/test.h5

Times ``model.predict_on_batch`` (what the evaluation calls) on batches of ``--batch`` (256)
generated jets, multiplicity ~Gamma(mean 40, sd 16) padded to ``--particles`` (150), 13 features,
10 classes; jets/s at the median, slowest and fastest of ``--steps`` batches after a warm-up
pass.  ``--modes`` is ignored (always the classifier).  See :mod:`omnilearn.benchmarks`.
"""

from __future__ import annotations

from omnilearn import benchmarks


def main(argv: list[str] | None = None) -> None:
    benchmarks.main(__doc__, benchmarks.run_inference, argv, steps=20)


if __name__ == "__main__":
    main()
