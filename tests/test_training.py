"""Optimizers, checkpoints (atomic, body reusable under new heads) and resume after a kill."""

import math

import numpy as np
import pytest
import keras
import tensorflow as tf
from conftest import random_batch

from omnilearn.config import TrainConfig
from omnilearn.models import OmniLearn
from omnilearn.training import checkpoint
from omnilearn.training.optimizers import learning_rate_schedule, make_optimizers
from omnilearn.training.trainer import fit


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
    return (np.asarray(model.classify(batch)),
            np.asarray(model.velocity(batch["particles"], batch["mask"], batch["jet"], batch["label"], t)))


def test_save_load_round_trip(tmp_path, small_config):
    model = OmniLearn(small_config)
    batch = random_batch()
    checkpoint.save(model, tmp_path / "ckpt", classes=["a", "b", "c"])
    loaded = checkpoint.load(tmp_path / "ckpt")
    for a, b in zip(_outputs(model, batch), _outputs(loaded, batch)):
        np.testing.assert_array_equal(a, b)
    assert checkpoint.read_meta(tmp_path / "ckpt")["classes"] == ["a", "b", "c"]


def test_pretrained_body_under_new_class_count(tmp_path, small_config):
    pretrained = OmniLearn(small_config)
    checkpoint.save(pretrained, tmp_path / "ckpt")
    task = OmniLearn(small_config.replace(num_classes=2), mode="classifier")
    assert checkpoint.load_pretrained(task, tmp_path / "ckpt") == ["body", "classifier", "generator"]
    batch = random_batch()
    t = np.zeros((6, 1), "float32")
    np.testing.assert_array_equal(np.asarray(task.encode(batch["particles"], batch["mask"], t)),
                                  np.asarray(pretrained.encode(batch["particles"], batch["mask"], t)))
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
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
