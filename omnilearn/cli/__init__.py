"""The ``omnilearn`` command (also ``python -m omnilearn``): one subcommand per step of the work.

Commands::

    omnilearn quickstart [--seed 1]        the main job on this machine: Pythia jets → pretrain →
                                           fine-tune a top tagger (and one from scratch) → evaluate → plot
    omnilearn generate-pythia              embedded Pythia 8 + FastJet jets: unified train/val/test.h5
                                           (--format unified), or the released top-tagging (top),
                                           quark/gluon (qg) or JetNet (jetnet) files
    omnilearn preprocess --dataset D --input PATH    a released dataset → unified <data_dir>/<D>/{train,val,test}.h5
    omnilearn train --dataset jetclass     pretraining (mode all) → <runs_dir>/pretrain/{best,last}, history.csv
    omnilearn finetune --dataset D [--fine_tune]     a task with its recipe (omnilearn.recipes):
                                           classification → <runs_dir>/<D>_omnilearn (with --fine_tune,
                                           from <runs_dir>/pretrain/best) or <runs_dir>/<D>_scratch;
                                           jetnet30/jetnet150 → the generator head there and the
                                           jet-level model in <runs_dir>/<D>_jets
    omnilearn sample --dataset jetnet30 --run omnilearn [--ideal]    JetNet jets → samples/<D>_<run>[_ideal]
    omnilearn evaluate --dataset D ...     classification: <runs_dir>/<D>_<run>/results.json;
                                           jetnet30/jetnet150: JetNet metrics of samples/<D>_*
    omnilearn report                       paper-style table, ROC and loss plots of every evaluated task,
                                           then docs/results.md from plots/ (--page_only: the page alone)
    omnilearn pythia-tasks --tasks top qg  top and q/g on Pythia jets in the released formats, fine-tuned vs scratch
    omnilearn study --sizes 250 1000 --seeds 1 2 3    data efficiency and convergence on the Pythia
                                           top/qg tasks: fine-tuned vs scratch, independent test jets
    omnilearn generate-omnifold            paired Pythia Z+jet events ("data" and "MC", both levels) for OmniFold
    omnilearn omnifold [--fine_tune]       OmniFold unfolding → <runs_dir>/<D>_<omnilearn|scratch> (default D:
                                           omnifold_pythia; omnifold: the Zenodo samples via preprocess)
    omnilearn omnifold-evaluate            Tables VIII–IX and Figs. 7–9 of the OmniFold runs
    omnilearn summary                      parameter counts of the body and the heads
    omnilearn lhco-generate | lhco-train | lhco-sample | lhco-classify | lhco-evaluate
                                           anomaly detection (Sec. VIII): events, sideband generator,
                                           SR template, CWoLa classifiers (--n_sig, --ideal, --seed), SIC
    omnilearn import-upstream WEIGHTS.h5 --out DIR [--ema]    the authors' released weights → a
                                           checkpoint that --pretrained DIR fine-tunes from

Every flag is spelled with underscores (``--num_particles``, ``--no_resume``); the hyphen
spelling (``--num-particles``) is accepted too. Runs are found by one rule
(:mod:`omnilearn.runs`): under ``--runs_dir`` (default ``runs``) pretraining writes
``pretrain/``, a task run ``<dataset>_omnilearn/`` (``--fine_tune``) or ``<dataset>_scratch/``,
the JetNet jet-level model ``<dataset>_jets/``; ``--pretrained`` defaults to
``<runs_dir>/pretrain/best``. Checkpoints record their data settings, so ``evaluate`` and
``sample`` read the particle count from them. ``omnilearn COMMAND --help`` lists a command's flags.

Each command only parses its flags and calls the library (:mod:`omnilearn.workflows`,
:mod:`omnilearn.training.run`, :mod:`omnilearn.evaluation`, …); the flags of a command are
added only when that command runs, so TensorFlow is imported only by the commands that need it.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

from .. import __version__
from ..errors import OmniLearnError, OmniLearnWarning
from .flags import ArgumentParser, UsageError

#: command → (module of this package defining ``add_<command>``, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "quickstart": ("workflows", "the main job: Pythia jets → pretrain → fine-tune a top tagger → evaluate → plot"),
    "generate-pythia": ("data", "generate Pythia 8 + FastJet jets (unified files or a released format)"),
    "preprocess": ("data", "convert a released dataset into unified train/val/test files"),
    "train": ("train", "pretrain OmniLearn (mode all) → <runs_dir>/pretrain"),
    "finetune": ("train", "train a task (classifier, or JetNet generator) fine-tuned or from scratch"),
    "sample": ("generate", "generate JetNet jets with a trained generator → samples/<dataset>_<run>"),
    "evaluate": ("evaluate", "score classifiers on the test split, or generated JetNet jets"),
    "report": ("evaluate", "paper-style tables and plots of the evaluated tasks, and docs/results.md"),
    "pythia-tasks": ("workflows", "top tagging and q/g on Pythia jets in the released formats"),
    "pretrain-pythia": ("workflows", "the larger Pythia pretraining (10 JetClass-like classes) the study fine-tunes"),
    "study": ("workflows", "data efficiency and convergence: fine-tuned vs scratch over training sizes x seeds"),
    "generate-omnifold": ("omnifold", "generate the offline OmniFold default: paired Pythia Z+jet 'data' and 'MC'"),
    "omnifold": ("omnifold", "OmniFold unfolding with OmniLearn classifiers (fine-tuned or from scratch)"),
    "omnifold-evaluate": ("omnifold", "OmniFold runs on the test split: Tables VIII-IX, Figs. 7-9"),
    "summary": ("workflows", "parameter counts of the body and of each head"),
    "lhco-generate": ("lhco", "LHCO-like dijet events (QCD + W' -> X Y) with Pythia 8, two-jet event files"),
    "lhco-train": ("lhco", "train the LHCO background generator on the sidebands"),
    "lhco-sample": ("lhco", "generate signal-region background events with a trained LHCO generator"),
    "lhco-classify": ("lhco", "one CWoLa classifier (--n_sig, --ideal, --seed) and its max SIC"),
    "lhco-evaluate": ("lhco", "max SIC vs injected signal over seeds, generator losses and distributions"),
    "import-upstream": ("upstream", "the authors' released PET weights → a checkpoint directory for --pretrained"),
}


DESCRIPTION = "OmniLearn, the jet-physics foundation model: one subcommand per step of the work."
EPILOG = """Every flag is spelled with underscores (--num_particles, --no_resume); the hyphen spelling
(--num-particles) is accepted too. Under --runs_dir (default runs) pretraining writes pretrain/, a
task run <dataset>_omnilearn/ (with --fine_tune) or <dataset>_scratch/, the JetNet jet-level model
<dataset>_jets/; --pretrained defaults to <runs_dir>/pretrain/best. `omnilearn COMMAND --help`
lists a command's flags and examples."""


def build_parser(argv: list[str]) -> tuple[ArgumentParser, dict[str, ArgumentParser]]:
    """The top-level parser and its subparsers; only the command named in ``argv`` gets its flags
    (its module is imported then), so listing the commands imports nothing heavy."""
    parser = ArgumentParser(prog="omnilearn", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    chosen = next((word for word in argv if not word.startswith("-")), None)
    parsers = {}
    for name, (module, text) in COMMANDS.items():
        parsers[name] = sub.add_parser(name, help=text, description=text)
        if name == chosen:
            add = getattr(importlib.import_module(f"{__name__}.{module}"), "add_" + name.replace("-", "_"))
            add(parsers[name], argv[argv.index(name) + 1 :])
    return parser, parsers


def _warnings_as_lines(command: str) -> None:
    """Inside ``warnings.catch_warnings()``: print every :class:`OmniLearnWarning` (each time) as one
    line ``omnilearn <command>: warning: …``; other warnings as usual."""
    warnings.simplefilter("always", OmniLearnWarning)
    usual = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, OmniLearnWarning):
            print(f"omnilearn {command}: warning: {' '.join(str(message).split())}", file=sys.stderr)
        else:
            usual(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    """Run ``omnilearn ARGV`` (default: the process's arguments); returns the exit code.

    Argument errors exit with code 2 (argparse's ``SystemExit``), as do :class:`UsageError`\\ s a
    command raises (a missing pretrained checkpoint, flags that do not fit together). An
    :class:`~omnilearn.errors.OmniLearnError` (a file in the wrong format, a diverged training)
    prints its one-line message and exits with code 1. An
    :class:`~omnilearn.errors.OmniLearnWarning` (data lacking inputs the model was trained with)
    is printed as one line ``omnilearn <command>: warning: …`` and the command goes on.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is first imported
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, parsers = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            _warnings_as_lines(args.command)
            return int(args.handler(args) or 0)
    except UsageError as err:
        parsers[args.command].error(str(err))
    except OmniLearnError as err:  # bad input or a diverged run: the message says what to fix
        message = " ".join(str(err).split())  # one line, even if a library's text inside spans several
        print(f"omnilearn {args.command}: error: {message}", file=sys.stderr)
        return 1
    return 2  # not reached: error() exits
