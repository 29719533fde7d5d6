"""A larger Pythia pretraining sized for a 2-core machine: the body the study fine-tunes.

1. Generate (cached: a rerun with the same settings reuses the files) jets of the ten
   JetClass-like classes the embedded generator makes (QCD, t → bqq′, W → qq′, Z → qq̄, H → bb̄,
   H → cc̄, H → gg, H → 4q, H → ℓνqq′, t → bℓν), 500 < pT < 1000 GeV, into
   ``<data_dir>/pythia_jetclass10``.
2. Pretrain OmniLearn (mode ``all``) on them into ``<runs_dir>/pretrain`` (``best`` and
   ``last``). Training resumes from ``last`` after a kill, so the command can be rerun until done.
3. Write ``<plot_dir>/pretrain_pythia.json`` (settings, jets per split, wall times, the losses per
   epoch), ``pretrain_pythia_losses.png`` and a copy of the best checkpoint,
   ``<plot_dir>/checkpoint`` (the model without optimizer state, a few MB): the results to commit,
   so the study can fine-tune this body without redoing the pretraining.

Sizing (the defaults, measured on 2 cores): the ten classes take 2.0 CPU hours for 12 000 jets
each, about 70 minutes on two Pythia processes (the leptonic classes, which keep few events,
take more than half). The model is the quick start's PET (width 64, 4 blocks, 4 heads, the
leading 64 particles): mode ``all`` runs at about 70 jets/s here, so an epoch over the 96 000
training jets takes about 23 minutes and 5 epochs about two hours. ``paper_size`` uses the
paper's configuration instead (several times slower).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import runs as rule
from ..config import ModelConfig, TrainConfig
from ..evaluation.results import write_json
from ..models.checkpoint import atomic_directory, resolve
from ..plotting import plot_losses, read_history
from ..pythia.generator import CLASS_NAMES, PROCESS_NAMES, PythiaConfig, generate
from ..training.run import run_training

#: JetClass's ten classes, as far as the generator makes them (the five defaults first).
JETCLASS_CLASSES: tuple[str, ...] = CLASS_NAMES + tuple(
    name for name in PROCESS_NAMES if name not in CLASS_NAMES and not name.startswith("qg_")
)
DATASET = "pythia_jetclass10"
RESULT = "pretrain_pythia.json"
#: the published copy of the best checkpoint, in the plot folder
CHECKPOINT = "checkpoint"


@dataclass
class PretrainConfig:
    data_dir: str = "data"
    runs_dir: str = "runs/pythia_jetclass10"
    plot_dir: str = "plots/pretrain"
    classes: tuple[str, ...] = JETCLASS_CLASSES
    jets_per_class: int = 12000
    workers: int = 2
    seed: int = 1
    epochs: int = 5
    warm_epoch: int = 1
    batch: int = 128
    lr: float = 3e-4
    num_particles: int = 64
    paper_size: bool = False
    model: ModelConfig = field(default_factory=lambda: ModelConfig(projection_dim=64, num_layers=4, num_heads=4))

    def model_config(self) -> ModelConfig:
        return ModelConfig() if self.paper_size else self.model


def run(cfg: PretrainConfig | None = None, progress: bool = True) -> dict:
    """Generate, pretrain and summarise; returns the summary written to ``pretrain_pythia.json``."""
    cfg = cfg or PretrainConfig()
    pythia = PythiaConfig(classes=cfg.classes, jets_per_class=cfg.jets_per_class, workers=cfg.workers, seed=cfg.seed)
    data = generate(Path(cfg.data_dir) / DATASET, pythia, progress=progress)
    outdir = rule.run_dir(cfg.runs_dir, None, rule.PRETRAIN)
    start = time.time()
    run_training(
        [data.paths["train"]],
        [data.paths["val"]],
        outdir,
        cfg.model_config(),
        TrainConfig(
            mode="all",
            batch=cfg.batch,
            epoch=cfg.epochs,
            warm_epoch=cfg.warm_epoch,
            stop_epoch=cfg.epochs,
            lr=cfg.lr,
        ),
        dataset=DATASET,
        num_particles=cfg.num_particles,
        seed=cfg.seed,
        verbose="auto" if progress else 2,
    )
    training_s = time.time() - start
    history = read_history(outdir / "history.csv")
    plots = Path(cfg.plot_dir)
    with atomic_directory(plots / CHECKPOINT) as tmp:
        shutil.copytree(resolve(outdir / rule.BEST), tmp, dirs_exist_ok=True)
    previous = json.loads((plots / RESULT).read_text()) if (plots / RESULT).is_file() else {}
    val = [v for v in history.get("val_loss", []) if v == v]
    summary = {
        "dataset": DATASET,
        "classes": list(cfg.classes),
        "jets": {split: n * len(cfg.classes) for split, n in pythia.split_sizes().items()},
        "model": cfg.model_config().to_dict(),
        "settings": {k: v for k, v in asdict(cfg).items() if k not in ("model", "classes")},
        # the time of the call that made the files, so a rerun on cached jets keeps it
        "generation_seconds": None if data.made_in is None else round(data.made_in, 1),
        "generation_cached": data.cached,
        # per class: jets, events and wall/CPU seconds of its Pythia process
        "generation_stats": {name: asdict(stats) for name, stats in data.stats.items()},
        # a resumed run adds its time to the earlier calls' (generation is cached then)
        "training_seconds": round(previous.get("training_seconds", 0.0) + training_s, 1),
        "epochs_done": len(history.get("loss", [])),
        "history": history,
        "checkpoint": str(Path(rule.PRETRAIN) / rule.BEST),
        "published_checkpoint": CHECKPOINT,
        "best_val_loss": min(val) if val else None,
    }
    write_json(summary, plots / RESULT)
    plot_losses(
        {f"pretraining ({len(cfg.classes)} Pythia classes), loss terms": {"OmniLearn": history}},
        plots / "pretrain_pythia_losses.png",
        keys=("class_loss", "gen_loss", "smear_loss", "val_loss"),
    )
    return summary
