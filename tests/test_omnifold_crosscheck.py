"""Our OmniFold loop against the ``omnifold`` package (PyPI, the authors' library) on the Gaussian
toy with the same classifier: its MLP, Adam, batch, epochs, early stopping and iterations."""

from __future__ import annotations

import numpy as np
import pytest

from omnilearn.workflows import omnifold as of

N, ITERATIONS, EPOCHS, BATCH, LR, PATIENCE = 8000, 2, 6, 256, 1e-3, 3


class KerasSteps:
    """Two persistent MLPs of the ``omnifold`` package, trained as its ``MultiFold`` trains them
    (Adam, weighted sigmoid cross entropy on the logit, 80 % / 20 % train / validation split)."""

    def __init__(self, package):
        self.package = package
        self.models = {}

    def _model(self, step):
        if step not in self.models:
            self.models[step] = self.package.MLP(1)
        return self.models[step]

    def train(self, step, iteration, x, y, w, outdir):
        import keras

        model = self._model(step)
        model.compile(keras.optimizers.Adam(LR), loss=self.package.net.weighted_binary_crossentropy)
        order = np.random.default_rng([iteration, step]).permutation(len(y))
        n_train = int(0.8 * len(y))
        target = np.stack([y, w], axis=1).astype("float32")
        tr, va = order[:n_train], order[n_train:]
        model.fit(
            x[tr],
            target[tr],
            batch_size=BATCH,
            epochs=EPOCHS,
            validation_data=(x[va], target[va]),
            callbacks=[keras.callbacks.EarlyStopping(patience=PATIENCE, restore_best_weights=True)],
            verbose=0,
        )

    def restore(self, step, iteration, outdir):
        raise AssertionError("not resumed in this test")

    def predict(self, step, x):
        return 1.0 / (1.0 + np.exp(-self._model(step).predict(x, batch_size=1000, verbose=0)[:, 0]))


@pytest.mark.slow
def test_our_loop_unfolds_like_the_omnifold_package(tmp_path, monkeypatch):
    package = pytest.importorskip("omnifold", reason="the omnifold package (tests extra) is not installed")
    import keras

    # with Horovod importable the package wraps Adam in hvd.DistributedOptimizer, which Keras 3
    # cannot clone: run it single-process, as its code does without Horovod
    monkeypatch.setattr(package.omnifold, "hvd_installed", False)
    # Keras 3 clones a compiled model with its loss, which must then be a registered object
    loss = package.net.weighted_binary_crossentropy
    monkeypatch.setitem(keras.saving.get_custom_objects(), "weighted_binary_crossentropy", loss)

    toy = of.GaussianToy()
    arrays = of.gaussian_toy(N, toy, seed=11)
    ones = np.ones(N, dtype=bool)
    keras.utils.set_random_seed(1)
    mc = package.DataLoader(
        reco=arrays["mc_sim"], gen=arrays["mc_gen"], pass_reco=ones, pass_gen=ones, weight=np.ones(N)
    )
    data = package.DataLoader(reco=arrays["data_sim"], pass_reco=ones, weight=np.ones(N))
    reference = package.MultiFold(
        "toy",
        package.MLP(1),
        package.MLP(1),
        data,
        mc,
        weights_folder=str(tmp_path / "package"),
        log_folder=str(tmp_path),
        niter=ITERATIONS,
        batch_size=BATCH,
        epochs=EPOCHS,
        lr=LR,
        early_stop=PATIENCE,
    )
    reference.Unfold()
    theirs = reference.weights_push / reference.weights_push.mean()

    keras.utils.set_random_seed(1)
    ours = of.omnifold(
        arrays["mc_gen"],
        arrays["mc_sim"],
        arrays["data_sim"],
        KerasSteps(package),
        tmp_path / "ours",
        of.OmniFoldConfig(num_iter=ITERATIONS),
        log=None,
    )[f"push_{ITERATIONS - 1}"]

    z = arrays["mc_gen"][:, 0]
    central = np.abs(z) < 1.5
    means = [np.average(z, weights=w) for w in (theirs, ours)]
    assert abs(means[0] - means[1]) < 0.04, means  # the same unfolded mean (truth 0.6; measured 0.602, 0.611)
    for m in means:
        assert abs(m - toy.mu_data) < 0.1 and abs(m - toy.mu_mc) > 0.4, means
    # event by event: the two weight functions agree within the training noise of small MLPs
    assert np.median(np.abs(ours[central] / theirs[central] - 1)) < 0.07  # measured: 0.03
