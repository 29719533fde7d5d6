"""Diffusion sampling cost per jet vs the number of sampler steps (OmniLearn's generator head).

    python benchmarks/sampling_throughput.py                          # paper model, 4/16/64 steps (DPM-Solver++ 2M)
    python benchmarks/sampling_throughput.py --sample_steps 8,32 --guidance 1 --trim 0,16

Generates the particles of ``--batch`` jets (multiplicity ~Gamma(mean 40, sd 16) padded to
``--particles``; jet features and labels as conditions) with
:func:`omnilearn.generation.sampler.sample_particles` and prints seconds per jet, jets/s and
ms per jet per step (every step is one body + generator pass; guidance doubles it).  The
sampler traces on every call (seconds); the cost per batch is the difference between calls on
1 and 1 + ``--repeats`` batches (the first call's time, tracing included, is reported too).  See
:mod:`omnilearn.benchmarks`.
"""

from __future__ import annotations

from omnilearn import benchmarks


def main(argv: list[str] | None = None) -> None:
    benchmarks.main(__doc__, benchmarks.run_sampling, argv, benchmarks.add_sampling_args, batch=128, jit="1")


if __name__ == "__main__":
    main()
