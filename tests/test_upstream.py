"""The upstream variant (the authors' released forward pass) and the import of their weights."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import random_batch

from omnilearn.config import ModelConfig, TrainConfig
from omnilearn.models import OmniLearn, build_body, build_classifier, build_generator
from omnilearn.models.upstream import FEATURE_ORDER, UpstreamWeightsError, import_upstream


def test_upstream_parameter_counts():
    """The authors' PET in the configuration of their JetClass checkpoint (fixture README)."""
    cfg = ModelConfig.upstream()
    counts = {
        "body": build_body(cfg).count_params(),
        "classifier": build_classifier(cfg).count_params(),
        "generator": build_generator(cfg).count_params(),
    }
    assert counts == {"body": 1_318_784, "classifier": 269_326, "generator": 417_165}


def test_upstream_depends_on_padding_so_trim_is_off(small_config, tmp_path):
    """The authors' GroupNorm and unmasked attention see the padded slots: more padding changes
    the logits, so a run in this variant switches the padding trim and bucketing off."""
    from omnilearn.training.run import adapt_configs

    model = OmniLearn(small_config.replace(variant="upstream", jet_regression=True))
    batch = random_batch()
    padded = dict(
        batch,
        particles=np.pad(batch["particles"], ((0, 0), (0, 5), (0, 0))),
        mask=np.pad(batch["mask"], ((0, 0), (0, 5))),
    )
    out = model.classify(batch, outputs=True)
    assert out["regression"].shape == (6, 4)
    assert np.abs(np.asarray(model.classify(padded)) - np.asarray(out["logits"])).max() > 1e-4

    train = TrainConfig(trim_padding=16, bucket=True)
    _, paper_train = adapt_configs(small_config, train)
    assert paper_train == train
    model_cfg, up_train = adapt_configs(small_config.replace(variant="upstream"), train)
    assert (up_train.trim_padding, up_train.bucket) == (0, False)
    # a pretrained checkpoint decides the variant of the model it starts
    model.save_checkpoint(tmp_path / "ckpt")
    model_cfg, up_train = adapt_configs(small_config, train, tmp_path / "ckpt")
    assert (model_cfg.variant, model_cfg.jet_regression, up_train.trim_padding) == ("upstream", True, 0)


# -- parity with the authors' own outputs (fixture made by their unmodified code) -----------------

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = ("tf214", "tf221")
#: the largest absolute difference allowed between the authors' outputs and ours
TOLERANCE = 1e-4


def fixture_dir() -> Path:
    """``$OMNILEARN_UPSTREAM_FIXTURE``, default ``../shared/fixtures/upstream_pet`` from the repo root
    (skips when the default is absent; a directory named in the variable must exist)."""
    given = os.environ.get("OMNILEARN_UPSTREAM_FIXTURE")
    path = Path(given) if given else ROOT.parent / "shared" / "fixtures" / "upstream_pet"
    if not given and not path.is_dir():
        pytest.skip(f"no parity fixture at {path} (set OMNILEARN_UPSTREAM_FIXTURE)")
    assert path.is_dir(), f"OMNILEARN_UPSTREAM_FIXTURE={given} is not a directory"
    return path


def fixture_batch(fixture: Path, ckpt: Path, tmp: Path) -> dict:
    """The fixture's 8 jets (first 4 top, first 4 QCD of ``fixture_top.h5``) through our top
    converter, a unified file and our loader with the imported checkpoint's normalisation."""
    from omnilearn.data.format import UnifiedWriter
    from omnilearn.data.loader import JetLoader
    from omnilearn.datasets.top import TopFile
    from omnilearn.models.checkpoint import load_normalization

    top = TopFile(fixture / "fixture_top.h5", 150)
    try:
        rows = top.read(0, top.num_rows, np.ones(top.num_rows, bool))
    finally:
        top.close()
    pick = np.concatenate([np.flatnonzero(rows.pid == 1)[:4], np.flatnonzero(rows.pid == 0)[:4]])
    norm = load_normalization(ckpt)
    with UnifiedWriter(tmp / "fixture.h5", 150, ["qcd", "top"], normalization=norm) as w:
        w.append(rows.data[pick], rows.jet[pick], rows.pid[pick])
    return next(iter(JetLoader(tmp / "fixture.h5", 8, shuffle=False, normalization=norm)))


def check_parity(fixture: Path, layout: str, ema: bool, tmp: Path) -> dict[str, float]:
    """Import the fixture's weights file and compare every output with the authors'; raises
    AssertionError naming the first output off by more than :data:`TOLERANCE`."""
    ref = np.load(fixture / "upstream_pet_io.npz")
    ckpt = import_upstream(fixture / f"upstream_pet_random.{layout}.weights.h5", tmp / "imported", ema=ema)
    model = OmniLearn.from_checkpoint(ckpt)
    assert model.model_config.variant == "upstream"
    ours = FEATURE_ORDER  # the authors' feature columns in our order
    mask = ref["mask"][..., 0]
    if ema:
        got = {}
    else:
        batch = fixture_batch(fixture, ckpt, tmp)
        # our converter + normalisation give the authors' inputs (and so their outputs below)
        np.testing.assert_allclose(batch["particles"], ref["features"][..., ours], atol=1e-5)
        np.testing.assert_allclose(batch["jet"], ref["jet"], atol=1e-5)
        np.testing.assert_array_equal(batch["mask"], mask)
        zero = np.zeros((8, 1), np.float32)
        body = model.encode(batch["particles"], batch["mask"], zero)
        heads = model.head_outputs(body, batch["jet"], batch["mask"])
        got = {"body_t0": body, "logits_t0": heads["logits"], "regression_t0": heads["regression"]}
    # noised inputs: the authors' x_t (their noise draw), in our feature order
    x_t, time, jet = ref["x_t"][..., ours], ref["time"], ref["jet"]
    suffix = "_ema" if ema else ""
    got[f"body_t{suffix}"] = model.encode(x_t, mask, time)
    got[f"v_pred{suffix}"] = model.velocity(x_t, mask, jet, ref["label"], time)
    # the checkpoint's EMA copies (what the sampler uses) are the authors' in both imports
    got["body_t_ema (ema copy)"] = model.encode(x_t, mask, time, ema=True)
    got["v_pred_ema (ema copy)"] = model.velocity(x_t, mask, jet, ref["label"], time, ema=True)
    errors = {}
    for key, value in got.items():
        name = key.split()[0]
        expected = ref[name][..., ours] if name.startswith("v_pred") else ref[name]
        errors[key] = float(np.abs(np.asarray(value) - expected).max())
        assert errors[key] <= TOLERANCE, f"{layout}{suffix}: {key} differs from the authors' by {errors[key]:.2e}"
    return errors


@pytest.mark.parametrize("ema", [False, True], ids=["plain", "ema"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_parity_with_the_authors_outputs(layout, ema, tmp_path):
    """Body, logits, jet regression and velocity from the imported weights equal the authors'
    outputs on the same jets (≤ 1e-4), for the trained weights and (--ema) their EMA copies."""
    errors = check_parity(fixture_dir(), layout, ema, tmp_path)
    expected = {"body_t_ema", "v_pred_ema", "body_t", "v_pred"} if not ema else {"body_t_ema", "v_pred_ema"}
    if not ema:
        expected |= {"body_t0", "logits_t0", "regression_t0"}
    assert {key.split()[0] for key in errors} == expected


def test_parity_fails_on_a_corrupted_fixture(tmp_path, monkeypatch):
    """One weight of the body moved by 1e-2 (a copy of the fixture in tmp_path): the parity check fails."""
    fixture = fixture_dir()
    copy = tmp_path / "fixture"
    copy.mkdir()
    for name in ("upstream_pet_io.npz", "fixture_top.h5"):
        (copy / name).symlink_to(fixture / name)
    target = copy / "upstream_pet_random.tf214.weights.h5"
    shutil.copyfile(fixture / target.name, target)
    with h5py.File(target, "r+") as f:
        beta = f["body/_layer_checkpoint_dependencies/group_normalization_5/vars/1"]
        beta[3] = beta[3] + 1e-2
    monkeypatch.setenv("OMNILEARN_UPSTREAM_FIXTURE", str(copy))
    with pytest.raises(AssertionError, match="differs from the authors'"):
        check_parity(fixture_dir(), "tf214", False, tmp_path / "run")


def test_a_file_that_is_not_the_authors_checkpoint_is_refused(small_config, tmp_path):
    """Our own weights file, or a file with a tensor missing: one UpstreamWeightsError."""
    OmniLearn(small_config).body.save_weights(tmp_path / "ours.weights.h5")
    with pytest.raises(UpstreamWeightsError, match="not a weights file of the authors' PET"):
        import_upstream(tmp_path / "ours.weights.h5", tmp_path / "out")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(UpstreamWeightsError, match="not an HDF5"):
        import_upstream(tmp_path / "text.h5", tmp_path / "out")
    fixture = fixture_dir()
    broken = tmp_path / "broken.weights.h5"
    shutil.copyfile(fixture / "upstream_pet_random.tf214.weights.h5", broken)
    with h5py.File(broken, "r+") as f:
        del f["classifier/_layer_checkpoint_dependencies/dense_6"]  # the jet regression
    with pytest.raises(UpstreamWeightsError, match="classifier"):
        import_upstream(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_import_upstream_command(tmp_path, capsys):
    """``omnilearn import-upstream`` writes a checkpoint ``--pretrained`` accepts; a wrong file
    is one error line and exit code 1."""
    from omnilearn.cli import main
    from omnilearn.models.checkpoint import load_normalization, read_meta

    weights = fixture_dir() / "upstream_pet_random.tf221.weights.h5"
    assert main(["import-upstream", str(weights), "--out", str(tmp_path / "up"), "--ema"]) == 0
    meta = read_meta(tmp_path / "up")
    assert meta["model"]["variant"] == "upstream" and meta["data"]["ema"] is True
    assert meta["data"]["layout"] == "tf221"
    norm = load_normalization(tmp_path / "up")
    assert norm.jet_mean[0] == pytest.approx(618.2249)
    (tmp_path / "bad.h5").write_bytes(b"\x89HDF nothing")
    capsys.readouterr()
    assert main(["import-upstream", str(tmp_path / "bad.h5"), "--out", str(tmp_path / "bad")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("omnilearn import-upstream: error:") and "bad.h5" in err[0]


@pytest.mark.slow
def test_finetune_from_the_imported_checkpoint_end_to_end(tmp_path):
    """Pythia top jets in the released top-tagging format → preprocess → import-upstream →
    finetune --fine_tune --pretrained → evaluate, all through the command line."""
    from omnilearn.cli import main
    from omnilearn.models.checkpoint import read_meta

    fixture = fixture_dir()
    released = tmp_path / "released"
    released.mkdir()
    for split in ("train", "val", "test"):
        (released / f"{split}.h5").symlink_to(fixture / "fixture_top.h5")
    data, runs_dir = tmp_path / "data", tmp_path / "runs"
    assert main(["preprocess", "--dataset", "top", "--input", str(released), "--data_dir", str(data), "--quiet"]) == 0
    weights = fixture / "upstream_pet_random.tf214.weights.h5"
    assert main(["import-upstream", str(weights), "--out", str(runs_dir / "upstream")]) == 0
    finetune = ["finetune", "--dataset", "top", "--fine_tune", "--pretrained", str(runs_dir / "upstream")]
    finetune += ["--data_dir", str(data), "--runs_dir", str(runs_dir), "--epoch", "1", "--batch", "8", "--no_jit"]
    assert main(finetune) == 0
    meta = read_meta(runs_dir / "top_omnilearn" / "best")
    assert meta["model"]["variant"] == "upstream" and meta["model"]["num_classes"] == 2
    assert meta["train"]["trim_padding"] == 0  # the upstream variant is not padding invariant
    evaluate = ["evaluate", "--dataset", "top", "--data_dir", str(data), "--runs_dir", str(runs_dir)]
    assert main(evaluate + ["--runs", "omnilearn", "--bootstrap", "2"]) == 0
    assert (runs_dir / "top_omnilearn" / "results.json").exists()
