"""Linear-learner loss functions, vectorized over parallel models.

Each loss takes outputs `z` of shape (models, rows, outputs) and labels `y` (rows,) and
returns the per-row loss (models, rows) and its gradient with respect to `z`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cove.formats.linear_model import BINARY, MULTICLASS, REGRESSOR, sigmoid

Loss = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

FOR_PREDICTOR = {
    BINARY: ("logistic", "hinge_loss"),
    MULTICLASS: ("softmax_loss",),
    REGRESSOR: (
        "squared_loss",
        "absolute_loss",
        "eps_insensitive_squared_loss",
        "eps_insensitive_absolute_loss",
        "quantile_loss",
        "huber_loss",
    ),
}
ALL = tuple(name for names in FOR_PREDICTOR.values() for name in names)


def default_for(predictor_type: str) -> str:
    return FOR_PREDICTOR[predictor_type][0]


def get(name: str, hp: dict) -> Loss:
    """The loss `name` with its hyperparameters (margin, quantile, ...) bound."""
    if name == "logistic":
        return _logistic
    if name == "hinge_loss":
        return lambda z, y: _hinge(z, y, hp["margin"])
    if name == "softmax_loss":
        return _softmax
    residual_losses: dict[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
        "squared_loss": lambda r: (r**2, 2 * r),
        "absolute_loss": lambda r: (np.abs(r), np.sign(r)),
        "eps_insensitive_squared_loss": lambda r: _eps_squared(r, hp["loss_insensitivity"]),
        "eps_insensitive_absolute_loss": lambda r: _eps_absolute(r, hp["loss_insensitivity"]),
        "quantile_loss": lambda r: _quantile(r, hp["quantile"]),
        "huber_loss": lambda r: _huber(r, hp["huber_delta"]),
    }
    on_residual = residual_losses[name]

    def regression(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, grad = on_residual(z[..., 0] - y)
        return value, grad[..., None]

    return regression


def _logistic(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = z[..., 0]
    value = np.logaddexp(0.0, s) - y * s
    return value, (sigmoid(s) - y)[..., None]


def _hinge(z: np.ndarray, y: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    sign = 2 * y - 1
    slack = margin - sign * z[..., 0]
    return np.maximum(slack, 0.0), (-sign * (slack > 0))[..., None]


def _softmax(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = np.arange(y.size), y.astype(np.int64)
    shifted = z - z.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=-1))
    grad = np.exp(shifted - log_norm[..., None])
    grad[:, rows, labels] -= 1.0
    return log_norm - shifted[:, rows, labels], grad


def _eps_squared(r: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    excess = np.maximum(np.abs(r) - eps, 0.0)
    return excess**2, 2 * excess * np.sign(r)


def _eps_absolute(r: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    excess = np.abs(r) - eps
    return np.maximum(excess, 0.0), np.sign(r) * (excess > 0)


def _quantile(r: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    # r = prediction - label: over-prediction costs (1 - q), under-prediction q
    value = np.where(r > 0, (1 - q) * r, -q * r)
    return value, np.where(r > 0, 1 - q, -q)


def _huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    small = np.abs(r) <= delta
    value = np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    return value, np.clip(r, -delta, delta)
