"""The whole chain on the embedded Pythia jets: generate → pretrain → fine-tune → evaluate → plot.

1. Generate (once; cached) JetClass-like jets of 5 classes (QCD, t→bqq', W→qq', Z→qq̄, H→bb̄),
   500 < pT < 1000 GeV, and a top-tagging set (QCD vs top) in the top-tagging dataset's
   window 550 < pT < 650 GeV — a different fiducial region, as in the paper.
2. Pretrain OmniLearn (mode ``all``: classifier + generator + smeared classifier).
3. Fine-tune a top-vs-QCD classifier from the pretrained body (body learning rate x0.1) and,
   for comparison, train the same classifier from scratch for the same number of epochs.
4. Evaluate both on held-out jets: accuracy, AUC, 1/εB at εS = 0.5 and 0.3 (JSON).
5. Plot ROC curves and loss curves into ``plots/``.

The defaults are sized to finish in minutes on 2 CPU cores (a narrower, shallower PET on the
leading 64 particles); ``paper_size=True`` uses the paper's configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import ModelConfig, TrainConfig
from ..data.pythia import PythiaConfig, generate
from ..evaluation.classification import evaluate_checkpoint, write_json
from ..plotting import plot_losses, plot_roc, read_history
from ..training.run import run_training


@dataclass
class QuickstartConfig:
    data_dir: str = "data"
    run_dir: str = "runs/quickstart"
    plot_dir: str = "plots"
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
    """Run every step; returns {"omnilearn": metrics, "scratch": metrics}."""
    cfg = cfg or QuickstartConfig()
    data, runs = Path(cfg.data_dir), Path(cfg.run_dir)

    _say("1/5 generating Pythia jets (cached after the first run)")
    pre = generate(data / "pythia", PythiaConfig(jets_per_class=cfg.pretrain_jets_per_class, workers=cfg.workers,
                                                 seed=cfg.seed))
    top = generate(data / "toptag_pythia", PythiaConfig(classes=("qcd", "top"), jets_per_class=cfg.finetune_jets_per_class,
                                                        pt_min=550.0, pt_max=650.0, workers=cfg.workers,
                                                        seed=cfg.seed + 100))
    model_cfg = cfg.model_config()
    common = dict(num_particles=cfg.num_particles, seed=cfg.seed)

    _say("2/5 pretraining OmniLearn (classifier + generator) on 5 jet classes")
    run_training([pre.paths["train"]], [pre.paths["val"]], runs / "pretrain", model_cfg,
                 TrainConfig(mode="all", batch=cfg.batch, epoch=cfg.pretrain_epochs, warm_epoch=1,
                             stop_epoch=cfg.pretrain_epochs, lr=3e-4), **common)

    finetune = TrainConfig(mode="classifier", batch=cfg.batch, epoch=cfg.finetune_epochs, warm_epoch=1,
                           stop_epoch=cfg.finetune_epochs, lr=3e-4, wd=0.1)
    classifier_cfg = model_cfg.replace(feature_drop=0.0)
    _say("3/5 fine-tuning a top-vs-QCD classifier from the pretrained body")
    run_training([top.paths["train"]], [top.paths["val"]], runs / "toptag_omnilearn", classifier_cfg,
                 finetune.replace(fine_tune=True), pretrained=runs / "pretrain" / "best", **common)
    names = ["omnilearn"]
    if cfg.compare_scratch:
        _say("3/5 training the same classifier from scratch")
        run_training([top.paths["train"]], [top.paths["val"]], runs / "toptag_scratch", classifier_cfg, finetune,
                     **common)
        names.append("scratch")

    _say("4/5 evaluating on held-out jets")
    results = {}
    for name in names:
        results[name] = evaluate_checkpoint(runs / f"toptag_{name}" / "best", [top.paths["test"]],
                                            efficiencies=(0.5, 0.3), num_particles=cfg.num_particles, bootstrap=20)
        write_json(results[name], runs / f"toptag_{name}" / "results.json")
    print(f"{'model':10s} {'accuracy':>9s} {'AUC':>7s} {'1/eB@eS=0.5':>12s} {'1/eB@eS=0.3':>12s}   ({results['omnilearn']['n']} test jets)")
    for name, r in results.items():
        print(f"{name:10s} {r['accuracy']:9.3f} {r['auc']:7.4f} {r['rejection']['0.5']:12.1f} {r['rejection']['0.3']:12.1f}")
    print("(inf: no background jet of the test set passes the cut)")

    _say("5/5 plotting")
    plots = Path(cfg.plot_dir)
    roc = plot_roc({("OmniLearn (fine-tuned)" if n == "omnilearn" else "PET (scratch)"): results[n]["roc"] for n in names},
                   plots / "quickstart_roc.png", title="Top vs QCD, Pythia 8, 550 < pT < 650 GeV")
    pretrain = {"OmniLearn": read_history(runs / "pretrain" / "history.csv")}
    tagging = {("OmniLearn" if n == "omnilearn" else "scratch"): read_history(runs / f"toptag_{n}" / "history.csv")
               for n in names}
    losses = plot_losses({"pretraining (5 classes), loss terms": pretrain}, plots / "quickstart_pretrain_losses.png",
                         keys=("class_loss", "gen_loss", "smear_loss", "val_loss"))
    tag_losses = plot_losses({"top tagging: fine-tuned vs scratch": tagging}, plots / "quickstart_losses.png")
    print(f"wrote {roc}, {losses} and {tag_losses}")
    return results

