"""Classification metrics and decision-threshold selection for the linear learner."""

from __future__ import annotations

import numpy as np


def _f_beta(precision: np.ndarray, recall: np.ndarray, beta: float) -> np.ndarray:
    b2 = beta * beta
    denom = b2 * precision + recall
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, (1 + b2) * precision * recall / denom, 0.0)


def best_threshold(
    scores: np.ndarray,
    labels: np.ndarray,
    criterion: str,
    beta: float = 1.0,
    target_recall: float = 0.8,
    target_precision: float = 0.8,
) -> tuple[float, float]:
    """The threshold (predict 1 when score >= threshold) that maximizes `criterion`, and
    the criterion's value there. Every distinct score is a candidate."""
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    last_of_group = np.r_[s[1:] != s[:-1], True]  # cut only between distinct scores
    tp = np.cumsum(y)[last_of_group]
    predicted = (np.arange(1, s.size + 1))[last_of_group]
    fp = predicted - tp
    positives, n = float(y.sum()), float(y.size)
    precision = tp / predicted
    recall = tp / positives if positives else np.zeros_like(tp, dtype=float)
    if criterion == "accuracy":
        value = (tp + (n - positives - fp)) / n
    elif criterion == "f_beta":
        value = _f_beta(precision, recall, beta)
    elif criterion == "precision_at_target_recall":
        value = np.where(recall >= target_recall, precision, -1.0)
    elif criterion == "recall_at_target_precision":
        value = np.where(precision >= target_precision, recall, -1.0)
    else:
        raise ValueError(criterion)
    best = int(np.argmax(value))
    return float(s[last_of_group][best]), float(value[best])


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum statistic (ties get average ranks)."""
    positives = float(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    mean_rank = ends - (counts - 1) / 2.0  # 1-based average rank of each distinct score
    rank_sum = mean_rank[inverse][labels == 1].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))


def binary_metrics(
    scores: np.ndarray, labels: np.ndarray, threshold: float, beta: float
) -> dict[str, float]:
    predicted = scores >= threshold
    tp = float(np.sum(predicted & (labels == 1)))
    fp = float(np.sum(predicted & (labels == 0)))
    fn = float(np.sum(~predicted & (labels == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "binary_classification_accuracy": float(np.mean(predicted == (labels == 1))),
        "precision": precision,
        "recall": recall,
        "binary_f_beta": float(_f_beta(np.array(precision), np.array(recall), beta)),
        "roc_auc_score": roc_auc(scores, labels),
    }


def multiclass_metrics(
    outputs: np.ndarray, labels: np.ndarray, top_k: int, beta: float
) -> dict[str, float]:
    y = labels.astype(np.int64)
    classes = outputs.shape[1]
    predicted = outputs.argmax(axis=1)
    k = min(top_k, classes)
    top = np.argsort(-outputs, axis=1)[:, :k]
    precisions, recalls = [], []
    for c in range(classes):
        tp = np.sum((predicted == c) & (y == c))
        pred_c, true_c = np.sum(predicted == c), np.sum(y == c)
        precisions.append(tp / pred_c if pred_c else 0.0)
        recalls.append(tp / true_c if true_c else 0.0)
    p, r = np.asarray(precisions), np.asarray(recalls)
    return {
        "multiclass_accuracy": float(np.mean(predicted == y)),
        "multiclass_top_k_accuracy": float(np.mean((top == y[:, None]).any(axis=1))),
        "macro_precision": float(p.mean()),
        "macro_recall": float(r.mean()),
        "macro_f_beta": float(_f_beta(p, r, beta).mean()),
    }
