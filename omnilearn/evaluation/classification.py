"""Classification metrics of the paper's tables: accuracy, AUC, background rejection 1/εB at εS."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def predict(model, dataset, steps: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class probabilities, one-hot labels and weights over a loader's ``tf.data`` dataset.

    Returns ``(probs (N, C), labels (N, C), weights (N,))``.
    """
    probs, labels, weights = [], [], []
    for i, batch in enumerate(dataset):
        if steps is not None and i >= steps:
            break
        probs.append(np.asarray(model.predict_on_batch(batch)))
        labels.append(np.asarray(batch["label"]))
        weights.append(np.asarray(batch["weight"]))
    return np.concatenate(probs), np.concatenate(labels), np.concatenate(weights)


def rejection_at(fpr: np.ndarray, tpr: np.ndarray, signal_efficiency: float) -> float:
    """1/εB at the first ROC point whose signal efficiency reaches ``signal_efficiency``."""
    i = int(np.searchsorted(tpr, signal_efficiency, side="left"))
    i = min(i, len(fpr) - 1)
    return float(1.0 / fpr[i]) if fpr[i] > 0 else float("inf")


def binary_metrics(
    scores: np.ndarray,
    is_signal: np.ndarray,
    efficiencies: Sequence[float] = (0.5, 0.3),
    weights: np.ndarray | None = None,
) -> dict:
    """AUC, accuracy at score 0.5 and 1/εB at each signal efficiency (weighted if given)."""
    is_signal = np.asarray(is_signal).astype(bool)
    fpr, tpr, _ = roc_curve(is_signal, scores, sample_weight=weights)
    w = np.ones_like(scores) if weights is None else weights
    return {
        "auc": float(roc_auc_score(is_signal, scores, sample_weight=weights)),
        "accuracy": float(np.sum(w * ((scores > 0.5) == is_signal)) / np.sum(w)),
        "rejection": {f"{e:g}": rejection_at(fpr, tpr, e) for e in efficiencies},
        "n": int(len(scores)),
    }


def evaluate_binary(
    probs: np.ndarray,
    labels: np.ndarray,
    signal: int = 1,
    efficiencies: Sequence[float] = (0.5, 0.3),
    weights: np.ndarray | None = None,
    bootstrap: int = 0,
    seed: int = 0,
) -> dict:
    """Metrics for class ``signal`` vs the rest; with ``bootstrap`` > 0, their standard deviations.

    The score is p(signal) / (p(signal) + p(background)) restricted to the two classes present
    (the full softmax probability of ``signal`` for a binary classifier).
    """
    y = labels.argmax(-1)
    score = probs[:, signal]
    result = binary_metrics(score, y == signal, efficiencies, weights)
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        samples = []
        for _ in range(bootstrap):
            idx = rng.integers(0, len(score), len(score))
            if np.unique(y[idx] == signal).size < 2:
                continue  # one class only: AUC and 1/εB undefined (nan would poison the spread)
            samples.append(
                binary_metrics(score[idx], y[idx] == signal, efficiencies, None if weights is None else weights[idx])
            )
        result["bootstrap_used"] = len(samples)
        result["auc_std"] = float(np.std([s["auc"] for s in samples])) if samples else float("nan")
        result["accuracy_std"] = float(np.std([s["accuracy"] for s in samples])) if samples else float("nan")
        result["rejection_std"] = {k: _finite_std([s["rejection"][k] for s in samples]) for k in result["rejection"]}
    return result


def _finite_std(values) -> float:
    """Spread of the finite values (a resample with no background left above the cut gives inf)."""
    finite = np.asarray(values)[np.isfinite(values)]
    return float(np.std(finite)) if len(finite) > 1 else float("nan")


def roc_points(probs: np.ndarray, labels: np.ndarray, signal: int = 1, weights=None) -> dict:
    """ROC curve as lists (signal efficiency, background rejection) for plots and JSON."""
    fpr, tpr, _ = roc_curve(labels.argmax(-1) == signal, probs[:, signal], sample_weight=weights)
    keep = fpr > 0
    return {"tpr": tpr[keep].tolist(), "rejection": (1.0 / fpr[keep]).tolist()}


def thin_roc(roc: Mapping[str, list[float]], max_points: int = 1000) -> dict[str, list[float]]:
    """At most ``max_points`` ROC points, evenly spaced in signal efficiency.

    A test set of a million jets gives up to a million ROC points; a plot needs a thousand.
    """
    tpr = np.asarray(roc["tpr"])
    if len(tpr) <= max_points:
        return {"tpr": list(roc["tpr"]), "rejection": list(roc["rejection"])}
    idx = np.unique(np.searchsorted(tpr, np.linspace(tpr[0], tpr[-1], max_points)).clip(0, len(tpr) - 1))
    return {"tpr": tpr[idx].tolist(), "rejection": np.asarray(roc["rejection"])[idx].tolist()}


def evaluate_checkpoint(
    ckpt: str | os.PathLike,
    test_files: Sequence[str | os.PathLike],
    signal: int = 1,
    efficiencies: Sequence[float] = (0.5, 0.3),
    batch_size: int = 256,
    bootstrap: int = 0,
    num_particles: int | None = None,
    weighted: bool = False,
    seed: int = 0,
    signal_class: str | None = None,
) -> dict:
    """Metrics, bootstrap standard deviations and ROC points (at most 1000) of a saved classifier
    on unified test files, normalised with the statistics stored in the checkpoint. The jets are
    scored in batches of similar multiplicity (the order of the jets, hence the bootstrap draws,
    follows those batches, not the files).

    Unweighted unless ``weighted`` (then the files' per-jet weights enter every metric). With
    ``signal_class``, a file whose class ``signal`` has another name is refused before predicting
    (another label order would silently score the background as signal).
    """
    from ..data.loader import JetLoader
    from ..training import checkpoint

    model = checkpoint.load(ckpt, mode="classifier")
    # A padding-invariant model is scored on multiplicity-sorted, trimmed batches under XLA (the
    # same outputs, 2-4x faster: docs/performance.md); the authors' variant sees full padding.
    fast = model.model_config.variant != "upstream"
    model.compile(jit_compile=fast)
    loader = JetLoader(
        test_files,
        batch_size,
        shuffle=False,
        normalization=checkpoint.load_normalization(ckpt),
        num_classes=model.model_config.num_classes,
        num_particles=num_particles,
        trim_padding=16 if fast else 0,
        bucket=fast,
    )
    if signal_class is not None and loader.classes[signal] != signal_class:
        raise ValueError(
            f"{list(map(str, test_files))}: class {signal} is {loader.classes[signal]!r}, "
            f"expected the signal {signal_class!r}"
        )
    probs, labels, weights = predict(model, loader.dataset())
    w = weights if weighted else None
    result = evaluate_binary(probs, labels, signal, efficiencies, w, bootstrap=bootstrap, seed=seed)
    result["roc"] = thin_roc(roc_points(probs, labels, signal, w))
    result["classes"] = list(loader.classes)
    return result
