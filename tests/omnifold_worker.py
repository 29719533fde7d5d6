"""One worker of the 2-process OmniFold test, run by ``tests/test_omnifold_distributed.py`` under::

    horovodrun -np 2 -H localhost:2 --gloo python tests/omnifold_worker.py --out O --probe P

Records into ``<probe>/rank<r>.npz``: the global normalisation of unequal shards (rank 0 holds
four weights 1, rank 1 one weight 4), the gather of the ranks' arrays, and the OmniFold weights
of the Gaussian toy with each rank holding its shard of the events; ``writes_rank<r>.txt``: every
file this process opened for writing under ``<out>``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from omnilearn.training import distributed  # noqa: E402
from omnilearn.workflows import omnifold as of  # noqa: E402

N_MC, N_DATA = 4001, 3999  # odd sizes: the shards differ by one event


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--probe", required=True)
    args = parser.parse_args()
    out = str(Path(args.out).resolve())
    writes: list[str] = []

    def audit(event, event_args):
        if event == "open" and isinstance(event_args[0], str) and event_args[0].startswith(out):
            mode = event_args[1] if len(event_args) > 1 and isinstance(event_args[1], str) else ""
            if any(c in mode for c in "wax+"):
                writes.append(event_args[0])

    sys.addaudithook(audit)
    ctx = distributed.init(pin_gpu=False)
    col = of.HorovodCollective()
    local = np.ones(4) if ctx.rank == 0 else np.array([4.0])
    normalized = of.normalize(local, col)
    gathered = col.gather(np.full(ctx.rank + 1, float(ctx.rank)))

    arrays = of.gaussian_toy(N_MC, seed=5)
    data_sim = of.GaussianToy().sample(N_DATA, of.GaussianToy().mu_data, 9)[1]
    mine, mine_data = of.shard(N_MC, ctx.rank, ctx.size), of.shard(N_DATA, ctx.rank, ctx.size)
    weights = of.omnifold(
        arrays["mc_gen"][mine],
        arrays["mc_sim"][mine],
        data_sim[mine_data],
        of.LogisticSteps(collective=col),
        out,
        of.OmniFoldConfig(num_iter=2),
        collective=col,
        log=None,
    )
    probe = Path(args.probe)
    probe.mkdir(parents=True, exist_ok=True)
    np.savez(probe / f"rank{ctx.rank}.npz", normalized=normalized, gathered=gathered, size=ctx.size, **weights)
    (probe / f"writes_rank{ctx.rank}.txt").write_text("\n".join(writes))


if __name__ == "__main__":
    main()
