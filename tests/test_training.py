"""Optimizers, checkpoints (atomic, body reusable under new heads) and resume after a kill."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_batch

from omnilearn.config import TrainConfig
from omnilearn.models import OmniLearn
from omnilearn.training import checkpoint
from omnilearn.training.optimizers import learning_rate_schedule, make_optimizers
from omnilearn.training.trainer import TrainingDivergedError, fit


def test_schedule_follows_paper_shape():
    cfg = TrainConfig(lr=3e-5, lr_min=1e-6, epoch=10, warm_epoch=3)
    sched = learning_rate_schedule(cfg, steps_per_epoch=100, num_workers=4)
    assert float(sched(0)) == pytest.approx(3e-5)
    assert float(sched(300)) == pytest.approx(3e-5 * math.sqrt(4), rel=1e-4)  # peak after warm-up
    assert float(sched(1000)) == pytest.approx(1e-6, rel=1e-3)  # floor at the end
    assert float(sched(150)) < float(sched(300)) and float(sched(600)) < float(sched(300))


def test_fine_tune_body_learns_ten_times_slower():
    head, body = make_optimizers(TrainConfig(fine_tune=True, warm_epoch=0, epoch=5), steps_per_epoch=10)
    assert float(body.learning_rate) == pytest.approx(0.1 * float(head.learning_rate))
    assert head.beta_1 == 0.95 and head.beta_2 == 0.99
    assert make_optimizers(TrainConfig(), steps_per_epoch=10)[1] is None


def _outputs(model, batch):
    t = np.full((len(batch["mask"]), 1), 0.5, "float32")
    return (
        np.asarray(model.classify(batch)),
        np.asarray(model.velocity(batch["particles"], batch["mask"], batch["jet"], batch["label"], t)),
    )


def test_save_load_round_trip(tmp_path, small_config):
    model = OmniLearn(small_config)
    batch = random_batch()
    checkpoint.save(model, tmp_path / "ckpt", classes=["a", "b", "c"])
    loaded = checkpoint.load(tmp_path / "ckpt")
    for a, b in zip(_outputs(model, batch), _outputs(loaded, batch)):
        np.testing.assert_array_equal(a, b)
    assert checkpoint.read_meta(tmp_path / "ckpt")["classes"] == ["a", "b", "c"]


def test_checkpoint_carries_the_data_settings(tmp_path, small_config):
    """``save_checkpoint``/``from_checkpoint``: the model, its mode and the data settings it was
    trained with come back, so nothing else has to remember them."""
    model = OmniLearn(small_config, mode="classifier")
    data = {"dataset": "top", "num_particles": 40, "num_features": small_config.num_feat}
    model.save_checkpoint(tmp_path / "ckpt", classes=["qcd", "top"], data=data, train={"lr": 3e-5})
    loaded = OmniLearn.from_checkpoint(tmp_path / "ckpt")
    assert loaded.mode == "classifier" and loaded.model_config == model.model_config
    batch = random_batch()
    for a, b in zip(_outputs(model, batch), _outputs(loaded, batch)):
        np.testing.assert_array_equal(a, b)
    assert checkpoint.data_settings(tmp_path / "ckpt") == data
    assert checkpoint.read_meta(tmp_path / "ckpt")["train"] == {"lr": 3e-5}
    assert OmniLearn.from_checkpoint(tmp_path / "ckpt", mode="generator").mode == "generator"


def test_pretrained_body_under_new_class_count(tmp_path, small_config):
    pretrained = OmniLearn(small_config)
    checkpoint.save(pretrained, tmp_path / "ckpt")
    task = OmniLearn(small_config.replace(num_classes=2), mode="classifier")
    assert checkpoint.load_pretrained(task, tmp_path / "ckpt") == ["body", "classifier", "generator"]
    batch = random_batch()
    t = np.zeros((6, 1), "float32")
    np.testing.assert_array_equal(
        np.asarray(task.encode(batch["particles"], batch["mask"], t)),
        np.asarray(pretrained.encode(batch["particles"], batch["mask"], t)),
    )
    # Every classifier weight is reused except the new output layer.
    for name in ("jet_embedding", "class_block_0", "class_norm"):
        for a, b in zip(task.classifier.get_layer(name).weights, pretrained.classifier.get_layer(name).weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert task.classifier.get_layer("class_output").kernel.shape == (16, 2)


def test_new_class_count_loads_every_other_weight_silently(tmp_path, small_config):
    import warnings

    pretrained = OmniLearn(small_config)
    checkpoint.save(pretrained, tmp_path / "ckpt")
    task = OmniLearn(small_config.replace(num_classes=2), mode="classifier")
    fresh = {part: [np.asarray(v).copy() for v in getattr(task, part).weights] for part in checkpoint.PARTS}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpoint.load_pretrained(task, tmp_path / "ckpt")
    assert not [w for w in caught if "freshly-initialized" in str(w.message)]
    kept = []  # weights whose shape depends on the class count keep their initialisation
    for part in checkpoint.PARTS:
        for v, old, before in zip(getattr(task, part).weights, getattr(pretrained, part).weights, fresh[part]):
            if v.shape == old.shape:
                np.testing.assert_array_equal(np.asarray(v), np.asarray(old), err_msg=v.path)
            else:
                np.testing.assert_array_equal(np.asarray(v), before)
                kept.append(v.path)
    assert sorted(kept) == ["class_output/bias", "class_output/kernel", "label_embedding/kernel"]


def test_checkpoint_write_is_atomic(tmp_path, small_config):
    model = OmniLearn(small_config)
    checkpoint.save(model, tmp_path / "ckpt", epoch=1)
    with pytest.raises(RuntimeError):
        with checkpoint.atomic_directory(tmp_path / "ckpt") as tmp:
            (tmp / "config.json").write_text("{half")
            raise RuntimeError("killed mid-write")
    assert checkpoint.read_meta(tmp_path / "ckpt")["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


@pytest.mark.parametrize(
    "name, damage",
    [
        ("config.json", "garbage"),
        ("config.json", "truncated"),
        ("body.weights.h5", "truncated"),
        ("classifier.weights.h5", "garbage"),
        ("normalization.npz", "garbage"),
        ("optimizer.npz", "truncated"),
    ],
)
def test_a_corrupt_checkpoint_file_is_one_error_naming_it(tmp_path, small_config, name, damage):
    from omnilearn.data.format import Normalization
    from omnilearn.errors import CheckpointError

    model = OmniLearn(small_config, mode="classifier")
    model.compile(optimizer=make_optimizers(TrainConfig(), 10)[0])
    norm = Normalization(np.zeros(13), np.ones(13), np.zeros(4), np.ones(4))
    checkpoint.save(model, tmp_path / "last", with_optimizer=True, normalization=norm)
    path = tmp_path / "last" / name
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match=rf"^{path}: "):
        if name == "normalization.npz":
            checkpoint.load_normalization(tmp_path / "last")
        elif name == "optimizer.npz":
            checkpoint.restore_training(model, tmp_path / "last")
        else:
            OmniLearn.from_checkpoint(tmp_path / "last")
    if name == "optimizer.npz":  # resuming says how to go on
        train = TrainConfig(mode="classifier", epoch=1, warm_epoch=0, jit_compile=False)
        with pytest.raises(CheckpointError, match=r"^cannot resume: .*optimizer\.npz.*--no_resume"):
            fit(OmniLearn(small_config, mode="classifier"), _dataset(), train, tmp_path, steps_per_epoch=3, verbose=0)


def test_a_kill_mid_swap_never_loses_the_last_complete_checkpoint(tmp_path, small_config, monkeypatch):
    """Killed between setting the old checkpoint aside and renaming the new one in, only
    ``.ckpt.old`` is left; a second kill at the same point of the next write must not delete it."""
    import os

    from omnilearn.models import checkpoint as model_checkpoint

    model = OmniLearn(small_config)
    checkpoint.save(model, tmp_path / "ckpt", epoch=1)
    os.replace(tmp_path / "ckpt", tmp_path / ".ckpt.old")  # the first kill
    assert checkpoint.read_meta(tmp_path / "ckpt")["epoch"] == 1
    real_replace = os.replace

    def killed_before_the_new_one_is_in(src, dst):
        if ".tmp-" in str(src):
            raise KeyboardInterrupt("killed")
        real_replace(src, dst)

    monkeypatch.setattr(model_checkpoint.os, "replace", killed_before_the_new_one_is_in)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(model, tmp_path / "ckpt", epoch=2)
    monkeypatch.undo()
    assert checkpoint.read_meta(tmp_path / "ckpt")["epoch"] == 1  # still there
    checkpoint.save(model, tmp_path / "ckpt", epoch=2)
    assert checkpoint.read_meta(tmp_path / "ckpt")["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir() if ".tmp-" not in p.name) == ["ckpt"]


def test_temporary_checkpoints_of_killed_runs_are_removed_at_start(tmp_path, small_config):
    """``.<name>.tmp-<host>-<pid>`` of a dead writer, and a set-aside ``.<name>.old`` once
    ``<name>`` is complete, are removed when a run starts; a live writer's folder is kept."""
    import os
    import socket
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    host = socket.gethostname()
    model = OmniLearn(small_config.replace(feature_drop=0.0), mode="classifier")
    checkpoint.save(model, tmp_path / "last", epoch=1)
    for name in (f".last.tmp-{host}-{proc.pid}", f".best.tmp-{host}-{os.getppid()}", ".last.old"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "body.weights.h5").write_bytes(b"partial")
    assert [p.name for p in checkpoint.remove_stale(tmp_path)] == [f".last.tmp-{host}-{proc.pid}", ".last.old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".best.tmp-{host}-{os.getppid()}", "last"]


def test_a_history_row_cut_short_by_a_kill_is_dropped(tmp_path):
    from omnilearn.training.trainer import _truncate_history

    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n0,0.9\n1,0.8\n1")  # killed while writing the row of epoch 12
    _truncate_history(path, 12)
    assert path.read_text() == "epoch,loss\n0,0.9\n1,0.8\n"


def _dataset(n=96, batch=32):
    data = random_batch(n=n, p=10)
    return tf.data.Dataset.from_tensor_slices(data).batch(batch)


class _Kill(keras.callbacks.Callback):
    """Dies right after the checkpoint of epoch ``after`` was written, like a SLURM kill."""

    def __init__(self, after):
        super().__init__()
        self.after = after

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after:
            raise KeyboardInterrupt("killed")


def test_resume_after_kill_reproduces_uninterrupted_run(tmp_path, small_config):
    cfg = small_config.replace(feature_drop=0.0)
    train = TrainConfig(mode="classifier", epoch=4, warm_epoch=1, lr=1e-3, stop_epoch=10)
    ds = _dataset()
    init = OmniLearn(cfg, mode="classifier").get_weights()

    def new_model():
        model = OmniLearn(cfg, mode="classifier")
        model.set_weights(init)
        return model

    fit(new_model(), ds, train, tmp_path / "straight", steps_per_epoch=3, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        fit(new_model(), ds, train, tmp_path / "killed", steps_per_epoch=3, verbose=0, extra_callbacks=[_Kill(2)])
    assert checkpoint.read_meta(tmp_path / "killed" / "last")["epoch"] == 2
    # A new process: fresh model, resumes from the "last" checkpoint after epoch 2.
    history = fit(OmniLearn(cfg, mode="classifier"), ds, train, tmp_path / "killed", steps_per_epoch=3, verbose=0)
    assert history.epoch == [2, 3]
    straight = checkpoint.load(tmp_path / "straight" / "last")
    resumed = checkpoint.load(tmp_path / "killed" / "last")
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert (tmp_path / "killed" / "best" / "body.weights.h5").exists()
    assert len(open(tmp_path / "killed" / "history.csv").read().strip().splitlines()) == 1 + 4


@pytest.mark.slow
def test_resumed_pretraining_is_identical_to_an_uninterrupted_one(tmp_path, small_config, monkeypatch):
    """Mode ``all`` from unified files, shuffled, feature drop on: killed in epoch 2's end (after
    its checkpoint, or after its history row but before the checkpoint) and rerun, the run ends
    with the same weights and history rows as one never interrupted (the loader continues with
    the next epoch's shuffle and the diffusion/drop random states continue from the checkpoint)."""
    from test_format import write

    from omnilearn.training import trainer
    from omnilearn.training.run import run_training

    train_file, _ = write(tmp_path / "train.h5", n=96, seed=1)
    val_file, _ = write(tmp_path / "val.h5", n=32, seed=2)
    cfg = small_config.replace(feature_drop=0.2)
    train = TrainConfig(mode="all", batch=32, epoch=4, warm_epoch=1, lr=1e-3, stop_epoch=10, jit_compile=False)

    def run(outdir):
        return run_training([train_file], [val_file], outdir, cfg, train, seed=3, verbose=0)

    run(tmp_path / "straight")
    save_epoch = trainer.CheckpointCallback.on_epoch_end
    straight = checkpoint.load(tmp_path / "straight" / "last").get_weights()
    straight_rows = (tmp_path / "straight" / "history.csv").read_text().splitlines()
    assert len(straight_rows) == 1 + 4

    for saved_first in (True, False):

        def killed_in_epoch_2(self, epoch, logs=None, saved_first=saved_first):
            if saved_first or epoch + 1 != 2:
                save_epoch(self, epoch, logs)
            if epoch + 1 == 2:
                raise KeyboardInterrupt("killed")

        outdir = tmp_path / f"killed_{saved_first}"
        with monkeypatch.context() as m:
            m.setattr(trainer.CheckpointCallback, "on_epoch_end", killed_in_epoch_2)
            with pytest.raises(KeyboardInterrupt):
                run(outdir)
        assert checkpoint.read_meta(outdir / "last")["epoch"] == (2 if saved_first else 1)
        run(outdir)
        for a, b in zip(straight, checkpoint.load(outdir / "last").get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        rows = (outdir / "history.csv").read_text().splitlines()
        assert [r.split(",")[0] for r in rows] == [r.split(",")[0] for r in straight_rows]


def test_divergence_stops_at_once_and_keeps_finite_checkpoints(tmp_path, small_config):
    """A NaN in the second epoch's data: training stops in that batch with one clear error, and
    ``last``/``best`` still hold epoch 1's finite weights (nothing non-finite is ever written)."""
    cfg = small_config.replace(feature_drop=0.0)
    data = random_batch(n=192, p=10)
    data["particles"][100, 0, 0] = np.nan  # rows 96-127: batch 1 of epoch 2 (3 batches of 32 per epoch)
    ds = tf.data.Dataset.from_tensor_slices(data).batch(32)
    train = TrainConfig(mode="classifier", epoch=5, warm_epoch=0, lr=1e-3, stop_epoch=10, jit_compile=False)
    with pytest.raises(TrainingDivergedError, match=r"epoch 2, batch 1.*last holds the last finite weights"):
        fit(OmniLearn(cfg, mode="classifier"), ds.repeat(), train, tmp_path / "run", steps_per_epoch=3, verbose=0)
    for name in ("last", "best"):
        assert checkpoint.read_meta(tmp_path / "run" / name)["epoch"] == 1
        loaded = checkpoint.load(tmp_path / "run" / name)
        assert all(np.isfinite(w).all() for w in loaded.get_weights())
    assert len((tmp_path / "run" / "history.csv").read_text().strip().splitlines()) == 1 + 1


@pytest.mark.parametrize("which", ["val", "train"])
def test_a_bad_data_file_stops_training_with_one_error_naming_it(tmp_path, small_config, which):
    """A NaN in val.h5 stops the run before it starts (the validation files are checked up
    front), one in train.h5 in the first epoch; either way the error is the DataFormatError naming
    the file and the jet, not a TensorFlow traceback, and no checkpoint is written."""
    import h5py
    from test_format import write

    from omnilearn.data.format import DataFormatError
    from omnilearn.training.run import run_training

    files = {split: write(tmp_path / f"{split}.h5", n=96, seed=i)[0] for i, split in enumerate(("train", "val"))}
    with h5py.File(files[which], "a") as f:
        f["data"][70, 0, 2] = np.nan
    train = TrainConfig(mode="classifier", batch=32, epoch=2, warm_epoch=0, jit_compile=False)
    with pytest.raises(DataFormatError, match=rf"{files[which]}: jets 0\.\.95: .*first at jet 70"):
        run_training([files["train"]], [files["val"]], tmp_path / "run", small_config, train, verbose=0)
    if which == "val":
        assert not (tmp_path / "run").exists()
    assert checkpoint.resolve(tmp_path / "run" / "last") is None


def _trained_on(tmp_path, small_config, present, classes=("qcd", "top", "w"), num_particles=20):
    """A checkpoint (untrained) whose data settings say what it was trained with."""
    from omnilearn.data.features import PARTICLE_FEATURES

    model = OmniLearn(small_config, mode="classifier")
    data = {
        "dataset": "jetclass",
        "num_particles": num_particles,
        "present_features": list(PARTICLE_FEATURES[:present]),
    }
    return checkpoint.save(model, tmp_path / "ckpt", classes=list(classes), data=data)


def test_check_data_warns_when_the_files_lack_inputs_the_model_had(tmp_path, small_config):
    import warnings

    from test_format import write

    from omnilearn.data.features import PARTICLE_FEATURES
    from omnilearn.data.format import inspect_file
    from omnilearn.errors import OmniLearnWarning

    ckpt = _trained_on(tmp_path, small_config, present=13)
    top = inspect_file(write(tmp_path / "top.h5", n=10, present_features=PARTICLE_FEATURES[:7])[0])
    with pytest.warns(
        OmniLearnWarning, match=r"trained on jetclass\) was trained with the particle features \['charge'"
    ):
        checkpoint.check_data(ckpt, [top], "evaluate")
    full = inspect_file(write(tmp_path / "full.h5", n=10)[0])
    kinematic_model = _trained_on(tmp_path / "kin", small_config, present=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OmniLearnWarning)
        checkpoint.check_data(ckpt, [full], "evaluate")  # every input there: silent
        checkpoint.check_data(kinematic_model, [top], "evaluate")


def test_check_data_mismatches_are_one_clear_error(tmp_path, small_config):
    from test_format import write

    from omnilearn.data.format import inspect_file
    from omnilearn.errors import CheckpointError

    files = inspect_file(write(tmp_path / "a.h5", n=10)[0])  # 20 particles, classes qcd top w
    qg = _trained_on(tmp_path / "qg", small_config, 13, classes=("gluon", "quark", "other"))
    with pytest.raises(CheckpointError, match=r"tells apart the classes \['gluon', 'quark', 'other'\]; .*a\.h5 holds"):
        checkpoint.check_data(qg, [files], "evaluate")
    checkpoint.check_data(qg, [files], "fine-tune")  # a new head: other classes are fine
    with pytest.raises(CheckpointError, match=r"takes 7 particle features per particle; .*a\.h5 has 13"):
        checkpoint.check_data(_trained_on(tmp_path / "f7", small_config.replace(num_feat=7), 7), [files], "fine-tune")
    many = _trained_on(tmp_path / "p40", small_config, 13, num_particles=40)
    with pytest.raises(
        CheckpointError, match=r"trained with 40 particles per jet; .*holds 20: evaluate with --num_particles 20"
    ):
        checkpoint.check_data(many, [files], "evaluate")
    checkpoint.check_data(many, [files], "evaluate", num_particles=12)


def test_fine_tuning_and_resuming_check_the_data_first(tmp_path, small_config):
    """A pretrained model with PID fine-tuned on files without it: a warning, and the data
    settings record what the files have; resuming into a run of other classes: one error."""
    from test_format import CLASSES, write

    from omnilearn.data.features import PARTICLE_FEATURES
    from omnilearn.errors import CheckpointError, OmniLearnWarning
    from omnilearn.training.run import run_training

    pretrained = _trained_on(tmp_path / "pre", small_config, present=13)
    kinematic = PARTICLE_FEATURES[:7]
    train_file = write(tmp_path / "train.h5", n=64, present_features=kinematic)[0]
    val_file = write(tmp_path / "val.h5", n=32, seed=1, present_features=kinematic)[0]
    train = TrainConfig(mode="classifier", batch=32, epoch=1, warm_epoch=0, jit_compile=False, fine_tune=True)
    with pytest.warns(OmniLearnWarning, match="does not have"):
        run_training([train_file], [val_file], tmp_path / "run", small_config, train, pretrained=pretrained, verbose=0)
    assert checkpoint.data_settings(tmp_path / "run" / "last")["present_features"] == list(kinematic)

    other = tmp_path / "other"
    write(other / "train.h5", n=64, classes=list(reversed(CLASSES)))
    write(other / "val.h5", n=32, classes=list(reversed(CLASSES)))
    with pytest.raises(CheckpointError, match=r"^cannot resume: .*tells apart the classes .*--no_resume"):
        run_training([other / "train.h5"], [other / "val.h5"], tmp_path / "run", small_config, train, verbose=0)


def test_training_lowers_the_loss(small_config):
    """Separable synthetic jets: a few epochs of the full OmniLearn loss reduce every term."""
    rng = np.random.default_rng(0)
    data = random_batch(n=256, p=10)
    y = data["label"].argmax(-1)
    data["particles"] = (data["particles"] + y[:, None, None] * 0.7 * data["mask"][..., None]).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(data).shuffle(256, seed=1).batch(32)
    model = OmniLearn(small_config, mode="all", seed=int(rng.integers(1000)))
    model.compile(optimizer=make_optimizers(TrainConfig(lr=1e-3, warm_epoch=0, epoch=6), 8)[0])
    history = model.fit(ds, epochs=6, verbose=0).history
    for term in ("class_loss", "gen_loss", "smear_loss"):
        assert history[term][-1] < 0.9 * history[term][0], (term, history[term])


def test_xla_step_matches_graph_step(small_config):
    """XLA only changes speed: one deterministic training step gives the same weights."""
    cfg = small_config.replace(feature_drop=0.0)
    batch = {k: tf.constant(v) for k, v in random_batch(n=16, p=10).items()}
    init = OmniLearn(cfg, mode="classifier").get_weights()
    weights = []
    for jit in (False, True):
        model = OmniLearn(cfg, mode="classifier")
        model.set_weights(init)
        model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=jit)  # LION's sign() would amplify float noise
        model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
        assert model.jit_compile is jit
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # not vacuous: the step moved the weights well beyond the tolerance
    assert max(np.abs(a - b).max() for a, b in zip(weights[0], init)) > 1e-3


_SEEDED_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_format import write
from omnilearn.config import ModelConfig, TrainConfig
from omnilearn.training.run import run_training
out = Path({out!r})
train_file, _ = write(out.parent / "train.h5", n=96, seed=1)
val_file, _ = write(out.parent / "val.h5", n=32, seed=2)
cfg = ModelConfig(num_classes=3, projection_dim=16, num_heads=2, num_layers=2, K=4, num_fourier=16, feature_drop=0.2)
train = TrainConfig(mode="all", batch=32, epoch=2, warm_epoch=1, lr=1e-3, stop_epoch=10)
run_training([train_file], [val_file], out, cfg, train, seed={seed}, verbose=0)
"""


@pytest.mark.slow
def test_the_same_seeded_run_twice_gives_identical_weights(tmp_path):
    """Two fresh processes, same command and seed (mode ``all``: weight init, shuffling, feature
    drop, diffusion times and noise all drawn): bit-identical weights and history on CPU; another
    seed gives other weights."""
    import subprocess
    import sys
    from pathlib import Path

    tests = str(Path(__file__).parent)
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        (tmp_path / name).mkdir()
        code = _SEEDED_RUN.format(tests=tests, out=str(tmp_path / name / "run"), seed=seed)
        subprocess.run([sys.executable, "-c", code], check=True, timeout=600, capture_output=True)
    a, b, c = (checkpoint.load(tmp_path / n / "run" / "last").get_weights() for n in "abc")
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    history = [(tmp_path / n / "run" / "history.csv").read_text() for n in "ab"]
    assert history[0] == history[1]
    assert any(not np.array_equal(x, z) for x, z in zip(a, c))
