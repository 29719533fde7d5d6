"""Training throughput (jets/s) of the PET/OmniLearn step on JetClass-like inputs.

    python benchmarks/train_throughput.py                              # paper model, modes all + classifier
    python benchmarks/train_throughput.py --modes all --trim 0,16 --jit 0,1 --steps 10
    python benchmarks/train_throughput.py --model_size quickstart --particles 64 --batch 64
    python benchmarks/train_throughput.py --data data/pythia/train.h5  # real (Pythia) jets via the loader

Generated jets: multiplicity ~Gamma(mean 40, sd 16) padded to ``--particles`` (150), 13 features,
10 classes, batch ``--batch`` (256).  Mode ``all`` is the pretraining step (both heads and the
smeared pass); ``classifier`` is the fine-tuning step (body at 0.1x the heads' rate).  Prints
jets/s at the median, slowest and fastest of ``--steps`` timed steps after one warm-up pass
over ``--distinct`` batches (tracing and XLA compilation, reported as warmup_s).  See
:mod:`omnilearn.benchmarks`.
"""

from __future__ import annotations

from omnilearn import benchmarks


def main(argv: list[str] | None = None) -> None:
    benchmarks.main(__doc__, benchmarks.run_training, argv)


if __name__ == "__main__":
    main()
