"""``python -m omnilearn summary [--projection_dim 128 --num_layers 8 ...]``: parameter counts."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _summary(args: argparse.Namespace) -> None:
    from .config import ModelConfig
    from .models import build_body, build_classifier, build_generator

    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    cfg = ModelConfig(**{k: v for k, v in vars(args).items() if k in fields and v is not None})
    print(f"body {build_body(cfg).count_params()}")
    print(f"classifier {build_classifier(cfg).count_params()}")
    print(f"generator {build_generator(cfg).count_params()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="omnilearn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    summary = sub.add_parser("summary", help="print the parameter count of the body and each head")
    for name in ("projection_dim", "num_layers", "num_class_layers", "num_gen_layers", "num_heads", "num_local",
                 "K", "num_classes", "num_feat"):
        summary.add_argument(f"--{name}", type=int)
    summary.add_argument("--no-local", dest="local", action="store_false", default=None)
    summary.set_defaults(func=_summary)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
