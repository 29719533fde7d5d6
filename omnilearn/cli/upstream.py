"""``omnilearn import-upstream``: the authors' released PET weights → a checkpoint directory of ours."""

from __future__ import annotations

import argparse

IMPORT_UPSTREAM = """Import the authors' released PET weights (ViniciusMikuni/OmniLearn, e.g.
checkpoints/PET_jetclass_8_local_layer_scale_token_baseline_all.weights.h5) as a checkpoint directory.

Examples:

    omnilearn import-upstream PET_jetclass_8_local_layer_scale_token_baseline_all.weights.h5 --out runs/upstream
    omnilearn finetune --dataset top --fine_tune --pretrained runs/upstream     # fine-tune from it
    omnilearn import-upstream WEIGHTS.h5 --out runs/upstream_ema --ema          # body and generator: EMA copies

Reads both Keras 2 weights layouts (tf.keras 2.13-2.15 and tf_keras >= 2.16) and maps every tensor
by its role (omnilearn.models.upstream). The checkpoint has the upstream model variant (the
authors' forward pass, padding-dependent: fine-tuning from it runs without padding trim), the
authors' JetClass normalisation in our feature order, and its outputs equal the authors' within
1e-4 (tests/test_upstream.py). A file that is not such a checkpoint: one error line, exit code 1.
"""


def add_import_upstream(p: argparse.ArgumentParser, argv: list[str]) -> None:
    p.description = IMPORT_UPSTREAM
    p.add_argument("weights", help="the authors' .weights.h5 file")
    p.add_argument("--out", required=True, help="checkpoint directory to write (e.g. runs/upstream)")
    p.add_argument(
        "--ema",
        action="store_true",
        help="take the body and generator head from the authors' EMA copies (what they generate with)",
    )
    p.set_defaults(handler=import_upstream)


def import_upstream(args: argparse.Namespace) -> int:
    from ..models.upstream import import_upstream as run

    out = run(args.weights, args.out, ema=args.ema)
    print(f"checkpoint in {out} (use it with --pretrained {out})")
    return 0
