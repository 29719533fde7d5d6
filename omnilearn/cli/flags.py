"""The parser every ``omnilearn`` command uses, and the flag groups the commands share.

Every flag is spelled with underscores (``--num_particles``, ``--no_jit``); the hyphen spelling
(``--num-particles``, ``--no-jit``) is accepted as a hidden alias by :class:`ArgumentParser`, so
commands written either way run the same. Numeric flags are checked while parsing (a learning
rate must be > 0, a batch ≥ 1, …): a bad value is one argparse error naming the flag, exit code 2.
This module imports no TensorFlow, so ``omnilearn --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import runs
from ..config import MODES, RECOMPUTE, ModelConfig, TrainConfig

_MODEL, _TRAIN = ModelConfig(), TrainConfig()


class UsageError(Exception):
    """A command's arguments do not fit together (or name a missing input): reported by
    :func:`omnilearn.cli.main` as an argparse error of that command, exit code 2."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions printed as written (their examples keep their lines); each flag's default
    shown after its help unless it is None or False (nothing to show) or the help names it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        hidden = action.default in (None, False, argparse.SUPPRESS) or isinstance(action, argparse._StoreFalseAction)
        if hidden or "%(default)" in text or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)".lstrip()


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` that also accepts ``--a-b`` for every ``--a_b`` flag.

    The alias is resolved before parsing (``--a-b`` and ``--a-b=value`` become ``--a_b``), so the
    help lists the underscore spelling only. Subparsers are of this class too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def _underscored(self, arg: str) -> str:
        if not arg.startswith("--") or arg == "--":
            return arg
        name, eq, value = arg.partition("=")
        known = self._option_string_actions
        if name in known or "-" not in name[2:]:
            return arg
        alias = "--" + name[2:].replace("-", "_")
        if alias in known or (self.allow_abbrev and any(option.startswith(alias) for option in known)):
            return alias + eq + value
        return arg

    def parse_known_args(
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        args = list(sys.argv[1:] if args is None else args)
        end = args.index("--") if "--" in args else len(args)  # after "--" every word is a value
        args = [self._underscored(a) for a in args[:end]] + args[end:]
        return super().parse_known_args(args, namespace)


class BooleanFlag(argparse.Action):
    """``--x`` / ``--no_x`` (``argparse.BooleanOptionalAction`` with the underscore spelling)."""

    def __init__(
        self, option_strings: Sequence[str], dest: str, default: bool | None = None, help: str | None = None
    ) -> None:
        strings = []
        for option in option_strings:
            strings.append(option)
            if option.startswith("--"):
                strings.append(f"--no_{option[2:]}")
        super().__init__(strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, not option_string.startswith("--no_"))

    def format_usage(self) -> str:
        return " | ".join(self.option_strings)


def _bounded(cast: Callable[[str], Any], name: str, low: float, inclusive: bool) -> Callable[[str], Any]:
    relation = ">=" if inclusive else ">"

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {name} {relation} {low:g}, got {text!r}") from None
        if value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {relation} {low:g}, got {text!r}")
        return value

    parse.__name__ = name  # argparse names the type in its own messages
    return parse


def ema_decay(text: str) -> float:
    """An EMA decay: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text!r}")
    return value


#: argparse ``type=`` checks of the numeric flags
positive_int = _bounded(int, "an integer", 1, True)
nonnegative_int = _bounded(int, "an integer", 0, True)
positive_float = _bounded(float, "a number", 0, False)
nonnegative_float = _bounded(float, "a number", 0, True)


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """The PET's size flags (defaults: the paper's configuration) and ``--num_particles``."""
    g = parser.add_argument_group("model (defaults: the paper's configuration)")
    g.add_argument("--projection_dim", type=positive_int, default=_MODEL.projection_dim, help="width D")
    g.add_argument("--num_layers", type=positive_int, default=_MODEL.num_layers, help="body transformer blocks")
    g.add_argument(
        "--num_class_layers", type=positive_int, default=_MODEL.num_class_layers, help="classifier-head blocks"
    )
    g.add_argument("--num_gen_layers", type=positive_int, default=_MODEL.num_gen_layers, help="generator-head blocks")
    g.add_argument("--num_heads", type=positive_int, default=_MODEL.num_heads, help="attention heads")
    g.add_argument("--K", type=positive_int, default=_MODEL.K, help="neighbours of the local (DGCNN) encoding")
    g.add_argument("--num_local", type=positive_int, default=_MODEL.num_local, help="local encoding layers")
    g.add_argument("--local", action=BooleanFlag, default=_MODEL.local, help="local DGCNN encoding")
    g.add_argument("--layer_scale", action=BooleanFlag, default=_MODEL.layer_scale, help="LayerScale on every residual")
    g.add_argument(
        "--feature_drop",
        type=nonnegative_float,
        default=None,
        help=f"PID feature-drop probability (default {_MODEL.feature_drop} in mode 'all', else 0)",
    )
    g.add_argument(
        "--num_particles",
        type=positive_int,
        default=None,
        help="keep only the leading N particles of each jet (default: all the files hold)",
    )
    g.add_argument(
        "--recompute",
        choices=RECOMPUTE,
        default=_MODEL.recompute,
        help="recompute in the backward pass instead of storing: the DGCNN edges (local) or also every "
        "transformer block (all); same gradients, less memory",
    )
    g = parser.add_argument_group("options of the authors' code (the paper is silent on them)")
    g.add_argument(
        "--num_diffusion",
        type=positive_int,
        default=_MODEL.num_diffusion,
        help="diffuse the first N features in the authors' order: Δη, Δφ, log(1 - pT/pT,jet), log pT, ... (13: all)",
    )
    g.add_argument(
        "--ema",
        type=ema_decay,
        default=_MODEL.ema,
        help="EMA decay of the body and generator weights, kept in checkpoints, used for sampling (0: off)",
    )
    g.add_argument(
        "--jet_regression",
        action=BooleanFlag,
        default=_MODEL.jet_regression,
        help="jet-regression output and, in mode all, its loss (a pretrained checkpoint decides)",
    )


def add_train_args(parser: argparse.ArgumentParser, **defaults: Any) -> None:
    """The optimisation flags; ``defaults`` (e.g. a recipe's ``lr``, ``epoch``, ``mode``) replace
    :class:`~omnilearn.config.TrainConfig`'s."""
    d = {**{f: getattr(_TRAIN, f) for f in ("mode", "lr", "lr_min", "batch", "epoch", "warm_epoch")}, **defaults}
    d.setdefault("stop_epoch", _TRAIN.stop_epoch)
    d.setdefault("wd", _TRAIN.wd)
    g = parser.add_argument_group("training")
    g.add_argument("--mode", choices=MODES, default=d["mode"], help="heads to train")
    g.add_argument("--lr", type=positive_float, default=d["lr"], help="initial learning rate")
    g.add_argument("--lr_min", type=nonnegative_float, default=d["lr_min"], help="final learning rate")
    g.add_argument("--batch", type=positive_int, default=d["batch"], help="local batch size (per worker)")
    g.add_argument("--epoch", type=positive_int, default=d["epoch"], help="maximum number of epochs")
    g.add_argument("--warm_epoch", type=nonnegative_int, default=d["warm_epoch"], help="learning-rate warm-up epochs")
    g.add_argument("--stop_epoch", type=positive_int, default=d["stop_epoch"], help="early-stopping patience")
    g.add_argument("--wd", type=nonnegative_float, default=d["wd"], help="LION weight decay")
    g.add_argument("--fine_tune", action="store_true", help="start from the pretrained model (body at a lower LR)")
    g.add_argument(
        "--pretrained",
        default=None,
        help="checkpoint used with --fine_tune (default: <runs_dir>/pretrain/best, what `omnilearn train` writes)",
    )
    g.add_argument("--jit", action=BooleanFlag, default=_TRAIN.jit_compile, help="XLA-compile the training step")
    g.add_argument(
        "--trim_padding",
        type=nonnegative_int,
        default=_TRAIN.trim_padding,
        help="cut each batch's padding after its last real particle, rounded up to this (0: off)",
    )
    g.add_argument("--bucket", action="store_true", help="batch jets of similar multiplicity (less padding)")
    g.add_argument("--mixed_precision", action="store_true", help="bfloat16 compute (for GPUs; not exact)")
    g.add_argument(
        "--accum_steps",
        type=positive_int,
        default=_TRAIN.accum_steps,
        help="run each batch as N micro-batches with one optimizer step (same update, less memory)",
    )
    g.add_argument("--seed", type=int, default=0, help="seeds initialisation, shuffling and diffusion noise")
    g.add_argument("--no_resume", dest="resume", action="store_false", help="ignore an existing 'last' checkpoint")


def add_runs_dir(parser: argparse.ArgumentParser, default: str = "runs") -> None:
    """``--runs_dir``: the folder the run-folder rule (:mod:`omnilearn.runs`) names runs under."""
    parser.add_argument(
        "--runs_dir",
        default=default,
        help="runs live in <runs_dir>/pretrain, <runs_dir>/<dataset>_omnilearn, <runs_dir>/<dataset>_scratch",
    )


def model_config(args: argparse.Namespace) -> ModelConfig:
    """The :class:`ModelConfig` of the model flags (feature drop: the paper's 0.2 only in mode ``all``)."""
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
        num_diffusion=args.num_diffusion,
        ema=args.ema,
        jet_regression=args.jet_regression,
        recompute=args.recompute,
    )


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of the training flags (``--body_lr_factor`` when the command has it)."""
    extra = {"body_lr_factor": args.body_lr_factor} if getattr(args, "body_lr_factor", None) is not None else {}
    return TrainConfig(
        mode=args.mode,
        batch=args.batch,
        epoch=args.epoch,
        warm_epoch=args.warm_epoch,
        stop_epoch=args.stop_epoch,
        lr=args.lr,
        lr_min=args.lr_min,
        wd=args.wd,
        fine_tune=args.fine_tune,
        jit_compile=args.jit,
        trim_padding=args.trim_padding,
        mixed_precision=args.mixed_precision,
        bucket=args.bucket,
        accum_steps=args.accum_steps,
        **extra,
    )


def pretrained(args: argparse.Namespace) -> Path:
    """``--pretrained``, or the run-folder rule's ``<runs_dir>/pretrain/best``."""
    return Path(args.pretrained) if args.pretrained else runs.pretrained_default(args.runs_dir)


def require_checkpoint(path: str | os.PathLike, what: str, hint: str) -> None:
    """Raise :class:`UsageError` unless ``path`` holds a checkpoint (``best``/``last`` folder)."""
    from ..models.checkpoint import resolve

    if resolve(path) is None:
        raise UsageError(f"no {what} checkpoint at {path}: {hint}")
