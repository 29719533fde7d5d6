"""``omnilearn lhco-*``: the anomaly-detection task (paper Sec. VIII) step by step, over
:mod:`omnilearn.workflows.lhco`.

Real data: ``omnilearn preprocess --dataset lhco --input events_anomalydetection_v2.h5
--data_dir data`` writes ``data/lhco/{train,val,test}.h5``; the offline default is
``omnilearn lhco-generate`` (Pythia 8, ``data/lhco_pythia``).
"""

from __future__ import annotations

import argparse

from .flags import add_model_args, add_runs_dir, model_config, nonnegative_float, positive_float, positive_int

DATA_DIR = "data/lhco_pythia"
RUNS_DIR = "runs/lhco"

GENERATE = """LHCO-like events made here with Pythia 8 + FastJet (QCD dijets and W' -> X Y -> (qq)(qq)),
in the two-jet event format: <data_dir>/{train,val,test}.h5 (cached by settings).

Example:

    omnilearn lhco-generate --data_dir data/lhco_pythia --num_background 16000 --num_signal 2000
"""

TRAIN = """Train the background generator on the sideband events: the per-jet particle generator
(fine-tuned from --pretrained with --fine_tune, else from scratch) and the jet-level model, into
<runs_dir>/lhco_generator_{omnilearn,scratch} (generator.json holds the losses of Fig. 12).

Example:

    omnilearn lhco-train --data_dir data/lhco_pythia --fine_tune --pretrained runs/quickstart/pretrain/best
"""

SAMPLE = """Generate signal-region background events with a trained generator run into
<runs_dir>/lhco_generator_<run>/signal_region.h5 (the CWoLa template).

Example:

    omnilearn lhco-sample --run omnilearn --num_events 20000 --steps 64
"""

CLASSIFY = """One CWoLa classification: signal-region data (background + --n_sig injected signal events)
against the template (--ideal: independent true background; else the generated one), scored
by the max SIC on the test split's signal region, into
<runs_dir>/lhco_classify/{ideal,generated}_{omnilearn,scratch}/nsig<N>_seed<S>/results.json.

Example:

    omnilearn lhco-classify --n_sig 300 --ideal --seed 1
    omnilearn lhco-classify --n_sig 300 --seed 1 --fine_tune --pretrained runs/quickstart/pretrain/best
"""

EVALUATE = """Max SIC vs injected signal over the seeds run (median, 16-84 % band), the generator losses and
generated vs true signal-region distributions: <plot_dir>/lhco_sic.json and lhco_*.png.

Example:

    omnilearn lhco-evaluate --runs_dir runs/lhco --plot_dir plots/lhco
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data_dir", default=DATA_DIR, help="folder of the event files {train,val,test}.h5")
    add_runs_dir(p, RUNS_DIR)
    p.add_argument("--seed", type=int, default=0, help="seeds every random choice and the training")


def _training(p: argparse.ArgumentParser, epochs: int, lr: float, batch: int) -> None:
    add_model_args(p)
    p.add_argument("--epochs", type=positive_int, default=epochs, help="training epochs")
    p.add_argument("--batch", type=positive_int, default=batch, help="batch size")
    p.add_argument("--lr", type=positive_float, default=lr, help="head learning rate (body x0.1 when fine-tuning)")
    p.add_argument("--wd", type=nonnegative_float, default=0.0, help="LION weight decay")
    p.add_argument("--fine_tune", action="store_true", help="start from --pretrained")
    p.add_argument(
        "--pretrained", default=None, help="OmniLearn checkpoint to fine-tune (default runs/quickstart/pretrain/best)"
    )
    p.add_argument("--no_progress", dest="progress", action="store_false", help="no progress output")


def _pretrained(args) -> str | None:
    if not args.fine_tune:
        return None
    from pathlib import Path

    from .flags import UsageError

    path = Path(args.pretrained) if args.pretrained else Path("runs/quickstart/pretrain/best")
    if not path.exists():
        raise UsageError(f"--fine_tune: no pretrained checkpoint at {path} (give --pretrained)")
    return str(path)


def add_lhco_generate(p: argparse.ArgumentParser, argv: list[str]) -> None:
    from ..pythia.lhco import LHCOPythiaConfig

    d = LHCOPythiaConfig()
    p.description = GENERATE
    p.add_argument("--data_dir", default=DATA_DIR, help="output folder")
    p.add_argument("--num_background", type=positive_int, default=d.num_background, help="QCD events generated")
    p.add_argument("--num_signal", type=positive_int, default=d.num_signal, help="signal events generated")
    p.add_argument("--num_particles", type=positive_int, default=d.num_particles, help="particles kept per jet")
    p.add_argument("--workers", type=positive_int, default=d.workers, help="Pythia processes")
    p.add_argument("--seed", type=int, default=d.seed, help="seeds Pythia and the split")
    p.set_defaults(handler=lhco_generate)


def lhco_generate(args) -> None:
    from ..pythia.lhco import LHCOPythiaConfig, generate

    cfg = LHCOPythiaConfig(
        num_background=args.num_background,
        num_signal=args.num_signal,
        num_particles=args.num_particles,
        workers=args.workers,
        seed=args.seed,
    )
    result = generate(args.data_dir, cfg)
    print(f"{args.data_dir}: " + ("already generated with these settings" if result is None else str(result.counts)))


def add_lhco_train(p: argparse.ArgumentParser, argv: list[str]) -> None:
    p.description = TRAIN
    _common(p)
    _training(p, epochs=10, lr=3e-4, batch=128)
    p.add_argument("--jet_epochs", type=positive_int, default=100, help="epochs of the jet-level model")
    p.set_defaults(handler=lhco_train, mode="generator")


def lhco_train(args) -> None:
    from ..workflows.lhco import GeneratorConfig, generator_dir, train_generator

    pretrained = _pretrained(args)
    cfg = GeneratorConfig(
        seed=args.seed,
        pretrained=pretrained,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        wd=args.wd,
        jet_epochs=args.jet_epochs,
        num_particles=args.num_particles,
        model=model_config(args).to_dict(),
    )
    out = generator_dir(args.runs_dir, pretrained is not None)
    result = train_generator(args.data_dir, out, cfg, progress=args.progress)
    print(f"{out}: best validation loss {min(result['val_loss']):.4f} in {result['seconds']:.0f} s")


def add_lhco_sample(p: argparse.ArgumentParser, argv: list[str]) -> None:
    p.description = SAMPLE
    _common(p)
    p.add_argument("--run", choices=("omnilearn", "scratch"), default="omnilearn", help="which generator run")
    p.add_argument("--num_events", type=positive_int, default=None, help="default: the train split's SR events")
    p.add_argument("--steps", type=positive_int, default=64, help="sampling steps (both models)")
    p.add_argument("--batch", type=positive_int, default=256, help="jets per sampling batch")
    p.add_argument("--no_progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(handler=lhco_sample)


def lhco_sample(args) -> None:
    from ..workflows.lhco import SAMPLE_FILE, generator_dir, sample_signal_region

    run = generator_dir(args.runs_dir, args.run == "omnilearn")
    out = sample_signal_region(
        run,
        args.data_dir,
        run / SAMPLE_FILE,
        num_events=args.num_events,
        steps=args.steps,
        seed=args.seed,
        batch_size=args.batch,
        progress=args.progress,
    )
    print(f"{out['output']}: {out['num_events']} events in {out['seconds']:.0f} s")


def add_lhco_classify(p: argparse.ArgumentParser, argv: list[str]) -> None:
    p.description = CLASSIFY
    _common(p)
    _training(p, epochs=10, lr=3e-4, batch=128)
    p.add_argument("--n_sig", type=int, default=1000, help="signal events injected into the signal-region data")
    p.add_argument("--ideal", action="store_true", help="template = independent true background")
    p.add_argument(
        "--template",
        default=None,
        help="generated SR background (default <runs_dir>/lhco_generator_omnilearn/signal_region.h5)",
    )
    p.set_defaults(handler=lhco_classify, mode="classifier")


def lhco_classify(args) -> None:
    from ..workflows.lhco import SAMPLE_FILE, ClassifyConfig, classify, classify_dir, generator_dir

    pretrained = _pretrained(args)
    template = None
    if not args.ideal:
        template = args.template or str(generator_dir(args.runs_dir, True) / SAMPLE_FILE)
    cfg = ClassifyConfig(
        n_sig=args.n_sig,
        ideal=args.ideal,
        seed=args.seed,
        template=template,
        pretrained=pretrained,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        wd=args.wd,
        num_particles=args.num_particles,
        model=model_config(args).to_dict(),
    )
    out = classify_dir(args.runs_dir, args.ideal, pretrained is not None, args.n_sig, args.seed)
    result = classify(args.data_dir, out, cfg, progress=args.progress)
    print(f"{out}: max SIC {result['max_sic']:.2f} (S/sqrt(B) = {result['initial_significance']:.2f})")


def add_lhco_evaluate(p: argparse.ArgumentParser, argv: list[str]) -> None:
    p.description = EVALUATE
    p.add_argument("--data_dir", default=DATA_DIR, help="folder of the event files (its test split)")
    add_runs_dir(p, RUNS_DIR)
    p.add_argument("--plot_dir", default="plots/lhco", help="output folder of the summary and figures")
    p.set_defaults(handler=lhco_evaluate)


def lhco_evaluate(args) -> None:
    from ..workflows.lhco import evaluate

    out = evaluate(args.runs_dir, args.data_dir, args.plot_dir)
    for variant, rows in out["summary"].items():
        cells = ", ".join(f"{n}: {m:.2f}" for n, m in zip(rows["n_sig"], rows["median"]))
        print(f"{variant}: median max SIC by n_sig {{{cells}}}")
    print("\n".join(out["plots"]))
