"""Command-line flags shared by the scripts (the upstream names: --lr, --batch, --epoch, ...)."""

from __future__ import annotations

import argparse

from .config import ModelConfig, TrainConfig
from .models.omnilearn import MODES

_MODEL, _TRAIN = ModelConfig(), TrainConfig()


def add_model_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("model (defaults: the paper's configuration)")
    g.add_argument("--projection_dim", type=int, default=_MODEL.projection_dim, help="width D")
    g.add_argument("--num_layers", type=int, default=_MODEL.num_layers, help="body transformer blocks")
    g.add_argument("--num_class_layers", type=int, default=_MODEL.num_class_layers)
    g.add_argument("--num_gen_layers", type=int, default=_MODEL.num_gen_layers)
    g.add_argument("--num_heads", type=int, default=_MODEL.num_heads)
    g.add_argument("--K", type=int, default=_MODEL.K, help="neighbours of the local (DGCNN) encoding")
    g.add_argument("--num_local", type=int, default=_MODEL.num_local)
    g.add_argument("--local", action=argparse.BooleanOptionalAction, default=_MODEL.local,
                   help="local DGCNN encoding")
    g.add_argument("--layer_scale", action=argparse.BooleanOptionalAction, default=_MODEL.layer_scale,
                   help="LayerScale on every residual branch")
    g.add_argument("--feature_drop", type=float, default=None,
                   help=f"PID feature-drop probability (default {_MODEL.feature_drop} in mode 'all', else 0)")
    g.add_argument("--num_particles", type=int, default=None, help="keep only the leading N particles")


def add_train_args(parser: argparse.ArgumentParser, **defaults) -> None:
    g = parser.add_argument_group("training")
    g.add_argument("--mode", choices=MODES, default=defaults.get("mode", _TRAIN.mode))
    g.add_argument("--lr", type=float, default=defaults.get("lr", _TRAIN.lr), help="initial learning rate")
    g.add_argument("--lr_min", type=float, default=_TRAIN.lr_min, help="final learning rate")
    g.add_argument("--batch", type=int, default=defaults.get("batch", _TRAIN.batch), help="local batch size")
    g.add_argument("--epoch", type=int, default=defaults.get("epoch", _TRAIN.epoch))
    g.add_argument("--warm_epoch", type=int, default=defaults.get("warm_epoch", _TRAIN.warm_epoch))
    g.add_argument("--stop_epoch", type=int, default=defaults.get("stop_epoch", _TRAIN.stop_epoch),
                   help="early-stopping patience")
    g.add_argument("--wd", type=float, default=defaults.get("wd", _TRAIN.wd), help="LION weight decay")
    g.add_argument("--fine_tune", action="store_true", help="start from a pretrained model (body LR x0.1)")
    g.add_argument("--pretrained", default=defaults.get("pretrained", "runs/pretrain/best"),
                   help="checkpoint directory used with --fine_tune")
    g.add_argument("--jit", action=argparse.BooleanOptionalAction, default=_TRAIN.jit_compile,
                   help="XLA-compile the training step")
    g.add_argument("--trim_padding", type=int, default=_TRAIN.trim_padding,
                   help="cut each batch's padding after its last real particle, rounded up to this (0: off)")
    g.add_argument("--bucket", action="store_true", help="batch jets of similar multiplicity (less padding)")
    g.add_argument("--mixed_precision", action="store_true", help="bfloat16 compute (for GPUs; not exact)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--no-resume", dest="resume", action="store_false", help="ignore an existing 'last' checkpoint")


def model_config(args: argparse.Namespace) -> ModelConfig:
    drop = args.feature_drop if args.feature_drop is not None else (_MODEL.feature_drop if args.mode == "all" else 0.0)
    return ModelConfig(
        projection_dim=args.projection_dim,
        num_layers=args.num_layers,
        num_class_layers=args.num_class_layers,
        num_gen_layers=args.num_gen_layers,
        num_heads=args.num_heads,
        K=args.K,
        num_local=args.num_local,
        local=args.local,
        layer_scale=args.layer_scale,
        feature_drop=drop,
    )


def train_config(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        mode=args.mode, batch=args.batch, epoch=args.epoch, warm_epoch=args.warm_epoch, stop_epoch=args.stop_epoch,
        lr=args.lr, lr_min=args.lr_min, wd=args.wd, fine_tune=args.fine_tune, jit_compile=args.jit,
        trim_padding=args.trim_padding, mixed_precision=args.mixed_precision,
        bucket=args.bucket,
    )


def train_dataset(args: argparse.Namespace, outdir, ctx, train_cfg: TrainConfig | None = None):
    """Train on the registered ``args.dataset`` (its train/val files under ``args.data_dir``) into
    ``outdir``, as this worker of ``ctx`` (:func:`omnilearn.training.distributed.init`); the
    pretrained model is loaded only with ``--fine_tune``. Returns the training result."""
    from .data import registry
    from .training.run import run_training

    dataset = registry.get(args.dataset)
    result = run_training(
        dataset.files(args.data_dir, "train"),
        dataset.files(args.data_dir, "val"),
        outdir,
        model_config(args),
        train_cfg or train_config(args),
        pretrained=args.pretrained if args.fine_tune else None,
        num_particles=args.num_particles,
        rank=ctx.rank,
        num_workers=ctx.size,
        seed=args.seed,
        resume=args.resume,
    )
    if ctx.is_root:
        print(f"checkpoints in {result.outdir}/best and {result.outdir}/last")
    return result
