"""The chain on real generated jets: Pythia → unified files → pretrain → fine-tune → evaluate."""

import math

import numpy as np
import pytest

from omnilearn.config import ModelConfig, TrainConfig
from omnilearn.evaluation.classification import evaluate_checkpoint
from omnilearn.plotting import read_history
from omnilearn.pythia.generator import PythiaConfig, generate
from omnilearn.training import checkpoint
from omnilearn.training.run import run_training

pytest.importorskip("pythia8mc")
pytestmark = pytest.mark.slow  # two short trainings on generated jets, about 3 minutes

SMALL = ModelConfig(projection_dim=32, num_heads=2, num_layers=2, K=5)


@pytest.fixture(scope="module")
def jets(tmp_path_factory):
    """150 top and 150 QCD jets (500 < pT < 1000 GeV), and a 2nd set in a different window."""
    root = tmp_path_factory.mktemp("pythia")
    pre = generate(
        root / "pre",
        PythiaConfig(classes=("qcd", "top"), jets_per_class=150, num_particles=32, seed=3, mpi=False),
        progress=False,
    )
    fine = generate(
        root / "fine",
        PythiaConfig(
            classes=("top", "qcd"), jets_per_class=100, num_particles=32, pt_min=550, pt_max=650, seed=4, mpi=False
        ),
        progress=False,
    )
    return pre.paths, fine.paths


@pytest.fixture(scope="module")
def pretrained(jets, tmp_path_factory):
    pre, _ = jets
    outdir = tmp_path_factory.mktemp("runs") / "pre"
    run = run_training(
        [pre["train"]],
        [pre["val"]],
        outdir,
        SMALL,
        TrainConfig(mode="all", batch=32, epoch=4, warm_epoch=1, lr=5e-4, stop_epoch=4),
        verbose=0,
    )
    return run, outdir


def test_pretraining_on_generated_jets_lowers_the_loss(pretrained):
    run, outdir = pretrained
    hist = read_history(outdir / "history.csv")
    assert len(hist["loss"]) == 4
    assert hist["loss"][-1] < 0.9 * hist["loss"][0], hist["loss"]
    assert hist["class_loss"][-1] < hist["class_loss"][0]
    assert hist["gen_loss"][-1] < hist["gen_loss"][0]
    assert run.classes == ("qcd", "top")
    meta = checkpoint.read_meta(outdir / "best")
    assert meta["classes"] == ["qcd", "top"] and meta["mode"] == "all"


def test_fine_tune_from_pretrained_body_and_evaluate(jets, pretrained, tmp_path):
    _, fine = jets
    _, pre_dir = pretrained
    body_before = checkpoint.load(pre_dir / "best").body.get_weights()
    run = run_training(
        [fine["train"]],
        [fine["val"]],
        tmp_path / "fine",
        SMALL.replace(feature_drop=0.0),
        TrainConfig(mode="classifier", batch=32, epoch=3, warm_epoch=1, lr=5e-4, fine_tune=True),
        pretrained=pre_dir / "best",
        verbose=0,
    )
    # The fine-tuned model normalises with the pretrained statistics and moved its body.
    pre_norm = checkpoint.load_normalization(pre_dir / "best")
    np.testing.assert_array_equal(run.normalization.particle_mean, pre_norm.particle_mean)
    body_after = run.model.body.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(body_before, body_after))

    result = evaluate_checkpoint(tmp_path / "fine" / "best", [fine["test"]], signal=0, bootstrap=5)
    assert result["n"] == 20
    assert 0.0 <= result["auc"] <= 1.0 and 0.0 <= result["accuracy"] <= 1.0
    assert result["classes"] == ["top", "qcd"]
    assert math.isfinite(result["auc_std"])
    assert len(result["roc"]["tpr"]) == len(result["roc"]["rejection"]) > 0
    # the sorted, trimmed XLA batches score every jet as the plain path in file order does
    from omnilearn.data.loader import JetLoader
    from omnilearn.evaluation.classification import evaluate_binary, predict

    model = checkpoint.load(tmp_path / "fine" / "best", mode="classifier")
    plain = JetLoader(
        [fine["test"]],
        256,
        shuffle=False,
        normalization=checkpoint.load_normalization(tmp_path / "fine" / "best"),
        num_classes=model.model_config.num_classes,
    )
    probs, labels, _ = predict(model, plain.dataset())
    assert result["auc"] == pytest.approx(evaluate_binary(probs, labels, 0)["auc"], abs=1e-6)
