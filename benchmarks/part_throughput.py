"""ParticleTransformer (ParT) throughput on the inputs of the OmniLearn benchmarks, for the
side-by-side comparison in docs/performance.md.

    python -m venv part-venv && part-venv/bin/pip install torch weaver-core psutil
    part-venv/bin/python benchmarks/part_throughput.py --batch 256 --json results.jsonl

It needs only PyTorch and weaver-core's ``ParticleTransformer`` (not OmniLearn): the model as
published (default configuration, 17 particle features, 10 classes, pair embedding from the
particles' 4-vectors, padding 128 as in the ParT JetClass setup), its own padding trimmer on.
Jets: multiplicities ~ Gamma(mean 40, sd 16), clipped to [1, ``--particles``], massless
particles with pT ~ exponential, |η|, |φ| spread < 0.8 around a random axis; features N(0, 1).
``train``: forward, cross-entropy, backward and one AdamW step (ParT's fine-tuning step);
``inference``: the forward pass in ``eval`` mode without gradients. jets/s as mean / min /
median over ``--steps`` timed batches after ``--warmup`` untimed ones; the peak RSS of each
kind is the process's VmHWM, reset before it.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def make_batch(rng: np.random.Generator, batch: int, particles: int, features: int):
    import torch

    shape, scale = (40.0 / 16.0) ** 2, 16.0**2 / 40.0
    n = np.clip(np.round(rng.gamma(shape, scale, batch)), 1, particles).astype(int)
    mask = np.arange(particles)[None, :] < n[:, None]
    pt = rng.exponential(20.0, (batch, particles)) + 0.5
    eta = rng.uniform(-2, 2, (batch, 1)) + rng.uniform(-0.8, 0.8, (batch, particles))
    phi = rng.uniform(-np.pi, np.pi, (batch, 1)) + rng.uniform(-0.8, 0.8, (batch, particles))
    vectors = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], 1)
    x = rng.normal(size=(batch, features, particles))
    m = mask[:, None, :].astype(np.float32)
    label = rng.integers(10, size=batch)
    as_t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    return as_t(x * m), as_t(vectors * m), as_t(m), torch.from_numpy(label)


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_gib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def run(kind: str, args) -> dict:
    import torch
    from weaver.nn.model.ParticleTransformer import ParticleTransformer

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = ParticleTransformer(input_dim=args.features, num_classes=10)
    batches = [make_batch(rng, args.batch, args.particles, args.features) for _ in range(args.distinct)]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(i: int) -> None:
        x, v, mask, label = batches[i % len(batches)]
        if kind == "train":
            model.train()
            opt.zero_grad()
            loss_fn(model(x, v, mask), label).backward()
            opt.step()
        else:
            model.eval()
            with torch.no_grad():
                model(x, v, mask)

    reset_peak()
    for i in range(args.warmup):
        step(i)
    times = []
    for i in range(args.steps):
        start = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - start)
    rates = args.batch / np.asarray(times)
    return {
        "benchmark": f"part_{kind}",
        "batch": args.batch,
        "particles": args.particles,
        "steps": args.steps,
        "jets_per_s_mean": float(args.batch * len(times) / sum(times)),
        "jets_per_s_min": float(rates.min()),
        "jets_per_s_median": float(np.median(rates)),
        "peak_rss_gib": round(peak_rss_gib(), 2),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "host": platform.processor() or platform.machine(),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kinds", default="train,inference", help="comma-separated: train, inference")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--particles", type=int, default=128, help="padding (ParT's JetClass setup: 128)")
    p.add_argument("--features", type=int, default=17, help="particle features (ParT's full set: 17)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=6, help="untimed steps (ParT's trimmer starts after 5)")
    p.add_argument("--distinct", type=int, default=4, help="distinct batches cycled through")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="append one JSON row per kind to this file")
    args = p.parse_args(argv)
    for kind in args.kinds.split(","):
        if kind not in ("train", "inference"):
            p.error(f"unknown kind {kind!r}")
        row = run(kind, args)
        print(
            f"ParT {kind:9s} batch {row['batch']}: {row['jets_per_s_mean']:.1f} / {row['jets_per_s_min']:.1f} / "
            f"{row['jets_per_s_median']:.1f} jets/s (mean / min / median), peak RSS {row['peak_rss_gib']} GiB"
        )
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
