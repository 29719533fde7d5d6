"""Training recipes: the flags each task trains with, in one place.

The paper gives the shared optimiser settings (Sec. II E: LION, cosine decay after a warm-up,
lr 3e-5 for pretraining, batch 256 per GPU); the per-dataset flags are those of the authors'
published fine-tuning commands (the README and ``train_atlas.py`` defaults of
github.com/ViniciusMikuni/OmniLearn). ``omnilearn finetune --dataset X`` takes
``recipe_for(X)`` as its defaults (``omnilearn train`` takes :data:`PRETRAIN`); every flag
can still be given on the command line. A recipe's ``mode`` says what the task trains: the
classifier, or for JetNet the generator (with its jet-level model).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    """Training flags of a task (the defaults of ``omnilearn finetune``).

    ``body_lr_factor`` multiplies the body's learning rate when fine-tuning (the upstream
    ``--lr_factor`` divides it: ``lr_factor 10`` is 0.1 here).
    """

    mode: str = "classifier"
    lr: float = 3e-5
    batch: int = 256
    epoch: int = 10
    warm_epoch: int = 3
    stop_epoch: int = 3
    wd: float = 0.1
    body_lr_factor: float = 0.1

    def flags(self) -> dict[str, str | float | int]:
        """The recipe as argparse defaults (``--mode``, ``--lr``, ``--batch``, …)."""
        return dataclasses.asdict(self)


#: Pretraining (paper Sec. II E; ``--wd 1e-5`` is the authors' training-script default).
PRETRAIN = Recipe(mode="all", lr=3e-5, batch=256, epoch=200, warm_epoch=3, stop_epoch=30, wd=1e-5)
TOP = Recipe(epoch=10, wd=0.1)
QG = Recipe(epoch=20, wd=0.1)
CMS = Recipe(epoch=40, wd=1e-4)
#: ATLAS: 1 warm-up epoch, patience 5, weight decay 1e-4, body LR / 5.
ATLAS = Recipe(epoch=40, warm_epoch=1, stop_epoch=5, wd=1e-4, body_lr_factor=0.2)
#: H1: ``--lr_factor 2`` (body LR / 2) and no ``--wd``, i.e. the upstream default 1e-5.
H1 = Recipe(epoch=10, wd=1e-5, body_lr_factor=0.5)
#: JetNet generation (paper Sec. VI): the generator head with the paper's general settings
#: (LION, 3e-5 with cosine decay, 200 epochs, patience 30) and no weight decay.
JETNET = Recipe(mode="generator", epoch=200, warm_epoch=3, stop_epoch=30, wd=0.0)

#: OmniFold (paper Sec. VII; the paper gives no numbers): the authors' settings, body LR / 5, batch 512,
#: 20 epochs, patience 3; iteration 0 warms up and decays, later ones use a small constant LR
#: (``omnilearn omnifold --later_lr``).
OMNIFOLD = Recipe(batch=512, epoch=20, warm_epoch=3, stop_epoch=3, wd=0.1, body_lr_factor=0.2)

#: dataset name → recipe; datasets not named here train with :data:`DEFAULT`.
RECIPES: dict[str, Recipe] = {
    "jetclass": PRETRAIN,
    "pythia": PRETRAIN,
    "top": TOP,
    "toptag_pythia": TOP,
    "qg": QG,
    "cms": CMS,
    "atlas": ATLAS,
    "atlas_small": ATLAS,
    "h1": H1,
    "jetnet30": JETNET,
    "jetnet150": JETNET,
    "omnifold": OMNIFOLD,
    "omnifold_pythia": OMNIFOLD,
}
DEFAULT = Recipe()


def recipe_for(dataset: str | None) -> Recipe:
    """The recipe of ``dataset`` (:data:`DEFAULT` for a dataset without its own)."""
    return RECIPES.get(dataset or "", DEFAULT)


def generation_datasets() -> tuple[str, ...]:
    """The datasets whose task is generation (recipe mode ``generator``): ``jetnet30``, ``jetnet150``."""
    return tuple(name for name, recipe in RECIPES.items() if recipe.mode == "generator")
