"""The whole chain on the embedded Pythia jets: generate → pretrain → fine-tune → evaluate → plot.

1. Generate (once; cached) JetClass-like jets of 5 classes (QCD, t→bqq', W→qq', Z→qq̄, H→bb̄),
   500 < pT < 1000 GeV, and a top-tagging set (QCD vs top) in the top-tagging dataset's
   window 550 < pT < 650 GeV — a different fiducial region, as in the paper.
2. Pretrain OmniLearn (mode ``all``: classifier + generator + smeared classifier).
3. Fine-tune a top-vs-QCD classifier from the pretrained body (body learning rate x0.1) and,
   for comparison, train the same classifier from scratch for the same number of epochs.
4. Evaluate both on held-out jets (:func:`omnilearn.evaluation.tasks.evaluate_task`, task
   ``toptag_pythia``): accuracy, AUC, 1/εB at εS = 0.5 and 0.3 into each run's ``results.json``.
5. Report them as ``omnilearn report`` does (:func:`omnilearn.report.write_report`) into
   ``plots/quickstart/``: ``toptag_pythia_{omnilearn,scratch}.json`` (the results to commit),
   ``toptag_pythia_roc.png``, ``toptag_pythia_losses.png``, ``toptag_pythia_table.md``, and the
   pretraining loss terms ``pretrain_losses.png``.

The defaults are sized to finish in minutes on 2 CPU cores (a narrower, shallower PET on the
leading 64 particles); ``paper_size=True`` uses the paper's configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import report
from .. import runs as rule
from ..config import ModelConfig, TrainConfig
from ..evaluation import tasks
from ..plotting import plot_losses, read_history
from ..pythia.generator import PythiaConfig, generate
from ..training.run import run_training


@dataclass
class QuickstartConfig:
    data_dir: str = "data"
    run_dir: str = "runs/quickstart"
    plot_dir: str = "plots/quickstart"
    pretrain_jets_per_class: int = 1500
    finetune_jets_per_class: int = 1500
    workers: int = 2
    seed: int = 1
    pretrain_epochs: int = 3
    finetune_epochs: int = 6
    batch: int = 64
    num_particles: int = 64
    compare_scratch: bool = True
    paper_size: bool = False
    model: ModelConfig = field(default_factory=lambda: ModelConfig(projection_dim=64, num_layers=4, num_heads=4))

    def model_config(self) -> ModelConfig:
        return ModelConfig() if self.paper_size else self.model


def _say(msg: str) -> None:
    print(f"\n=== {msg}", flush=True)


def run(cfg: QuickstartConfig | None = None) -> dict:
    """Run every step; returns {"omnilearn": results.json, "scratch": results.json}."""
    cfg = cfg or QuickstartConfig()
    data, runs = Path(cfg.data_dir), Path(cfg.run_dir)
    # the run-folder rule: <run_dir>/pretrain, <run_dir>/toptag_pythia_{omnilearn,scratch}
    pretrain_dir = rule.run_dir(runs, "pythia", rule.PRETRAIN)
    tagger_dir = {name: rule.run_dir(runs, "toptag_pythia", name) for name in rule.TASK_RUNS}

    _say("1/5 generating Pythia jets (cached after the first run)")
    pre = generate(
        data / "pythia", PythiaConfig(jets_per_class=cfg.pretrain_jets_per_class, workers=cfg.workers, seed=cfg.seed)
    )
    top = generate(
        data / "toptag_pythia",
        PythiaConfig(
            classes=("qcd", "top"),
            jets_per_class=cfg.finetune_jets_per_class,
            pt_min=550.0,
            pt_max=650.0,
            workers=cfg.workers,
            seed=cfg.seed + 100,
        ),
    )
    model_cfg = cfg.model_config()
    common = dict(num_particles=cfg.num_particles, seed=cfg.seed)

    _say("2/5 pretraining OmniLearn (classifier + generator) on 5 jet classes")
    run_training(
        [pre.paths["train"]],
        [pre.paths["val"]],
        pretrain_dir,
        model_cfg,
        TrainConfig(
            mode="all",
            batch=cfg.batch,
            epoch=cfg.pretrain_epochs,
            warm_epoch=1,
            stop_epoch=cfg.pretrain_epochs,
            lr=3e-4,
        ),
        dataset="pythia",
        **common,
    )

    finetune = TrainConfig(
        mode="classifier",
        batch=cfg.batch,
        epoch=cfg.finetune_epochs,
        warm_epoch=1,
        stop_epoch=cfg.finetune_epochs,
        lr=3e-4,
        wd=0.1,
    )
    classifier_cfg = model_cfg.replace(feature_drop=0.0)
    _say("3/5 fine-tuning a top-vs-QCD classifier from the pretrained body")
    run_training(
        [top.paths["train"]],
        [top.paths["val"]],
        tagger_dir["omnilearn"],
        classifier_cfg,
        finetune.replace(fine_tune=True),
        pretrained=rule.pretrained_default(runs),
        dataset="toptag_pythia",
        **common,
    )
    names = ["omnilearn"]
    if cfg.compare_scratch:
        _say("3/5 training the same classifier from scratch")
        run_training(
            [top.paths["train"]],
            [top.paths["val"]],
            tagger_dir["scratch"],
            classifier_cfg,
            finetune,
            dataset="toptag_pythia",
            **common,
        )
        names.append("scratch")

    _say("4/5 evaluating on held-out jets")
    task = tasks.get_task("toptag_pythia")
    tasks.evaluate_task(task, data, runs, names, bootstrap=20, seed=cfg.seed)
    results = tasks.load_results(task, runs, names)
    if any(v == float("inf") for r in results.values() for v in r["rejection"].values()):
        print("(inf: no background jet of the test set passes the cut)")

    _say("5/5 plotting")
    plots = Path(cfg.plot_dir)
    written = report.write_report(task, runs, plots) or []
    written.append(
        plot_losses(
            {"pretraining (5 classes), loss terms": {"OmniLearn": read_history(pretrain_dir / "history.csv")}},
            plots / "pretrain_losses.png",
            keys=("class_loss", "gen_loss", "smear_loss", "val_loss"),
        )
    )
    print("wrote " + ", ".join(map(str, written)))
    return results
