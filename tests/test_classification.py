"""Metrics of the paper's tables on hand-made scores."""

from __future__ import annotations

import numpy as np

from omnilearn.evaluation.classification import binary_metrics, evaluate_binary


def test_rejection_and_auc_on_a_known_ranking():
    # signal scores above every background but one: εS = 0.5 is reached before that background
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.85, 0.4, 0.3, 0.2, 0.1, 0.05])
    is_signal = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    m = binary_metrics(scores, is_signal, (0.25, 1.0))
    assert m["auc"] == 1 - 3 / (4 * 6)  # the background at 0.85 outranks 3 of the 4 signal jets
    assert m["rejection"]["0.25"] == float("inf")  # the top signal jet is above every background
    assert m["rejection"]["1"] == 6 / 1
    assert m["accuracy"] == 9 / 10 and m["n"] == 10


def test_bootstrap_of_a_tiny_test_set_skips_one_class_resamples():
    """With 4 test jets many resamples hold one class only; they must not make the spread nan."""
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.45, 0.55], [0.2, 0.8]])
    labels = np.eye(2)[[0, 1, 0, 1]]
    r = evaluate_binary(probs, labels, signal=1, bootstrap=200, seed=0)
    assert 100 < r["bootstrap_used"] < 200  # about 2 · (1/2)^4 of the draws are one-class
    assert np.isfinite(r["auc_std"]) and r["auc_std"] > 0
    assert np.isfinite(r["accuracy_std"])
    assert r["auc"] == 0.75 and r["n"] == 4


def test_bootstrap_spread_shrinks_with_more_jets():
    rng = np.random.default_rng(3)

    def spread(n):
        y = rng.integers(0, 2, n)
        s = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
        r = evaluate_binary(np.stack([1 - s, s], 1), np.eye(2)[y], bootstrap=50, seed=1)
        assert r["bootstrap_used"] == 50
        return r["auc_std"]

    assert spread(4000) < 0.5 * spread(250)
