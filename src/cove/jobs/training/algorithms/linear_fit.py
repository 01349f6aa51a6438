"""Fitting the linear learner: several linear models trained side by side on standardized
data with minibatch gradient steps, early stopping, and selection of the best one (with
its binary decision threshold) on the validation data, else the training data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cove.formats.linear_model import (
    BINARY,
    MULTICLASS,
    REGRESSOR,
    LinearModel,
    sigmoid,
)
from cove.jobs.training.algorithms import losses, metrics
from cove.jobs.training.algorithms.optimizers import make_optimizer
from cove.jobs.training.datasets import Dataset
from cove.jobs.training.hyperparameters import AUTO

DEFAULT_NUM_MODELS = 8
SEED = 17  # training is reproducible: same data and hyperparameters, same model


@dataclass
class Problem:
    """Validated hyperparameters plus what they imply."""

    hp: dict
    predictor_type: str
    loss: str
    outputs: int  # columns of the weight matrix: classes for multiclass, else 1


def _auto(hp: dict, name: str, default: float) -> float:
    return default if hp[name] == AUTO else hp[name]


@dataclass
class Scaling:
    """Feature standardization and (regression) label scaling, fixed from the train data."""

    mean: np.ndarray
    scale: np.ndarray
    label_mean: float = 0.0
    label_scale: float = 1.0

    @classmethod
    def fit(cls, problem: Problem, data: Dataset) -> Scaling:
        hp, x, y = problem.hp, data.features, data.labels
        sample = slice(0, hp["num_point_for_scaler"])
        mean, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
        if hp["normalize_data"]:
            if hp["use_bias"] if hp["unbias_data"] == AUTO else hp["unbias_data"]:
                mean = x[sample].mean(axis=0)
            scale = x[sample].std(axis=0)
            scale[scale == 0] = 1.0  # constant columns carry no signal; leave them be
        label_mean, label_scale = 0.0, 1.0
        if problem.predictor_type == REGRESSOR and hp["normalize_label"] in (AUTO, True):
            if hp["use_bias"] if hp["unbias_label"] == AUTO else hp["unbias_label"]:
                label_mean = float(y[sample].mean())
            label_scale = float(y[sample].std()) or 1.0
        return cls(mean, scale, label_mean, label_scale)

    def apply(self, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
        return (data.features - self.mean) / self.scale, (
            (data.labels - self.label_mean) / self.label_scale
        )


def sample_weights(problem: Problem, y: np.ndarray) -> np.ndarray:
    """positive_example_weight_mult (binary) and balance_multiclass_weights."""
    hp = problem.hp
    weights = np.ones_like(y)
    if problem.predictor_type == BINARY:
        mult = hp["positive_example_weight_mult"]
        if mult == "balanced":
            positives = max(float(y.sum()), 1.0)
            factor = (y.size - positives) / positives
        else:
            factor = 1.0 if mult == AUTO else float(mult)
        weights[y == 1] = factor
    elif problem.predictor_type == MULTICLASS and hp["balance_multiclass_weights"]:
        classes = y.astype(np.int64)
        counts = np.bincount(classes, minlength=problem.outputs).astype(np.float64)
        weights = (y.size / (problem.outputs * np.maximum(counts, 1.0)))[classes]
    return weights


class ParallelModels:
    """`num_models` linear models updated together: weights (models, features, outputs).

    With `learning_rate` / `wd` on auto, each model gets its own value from a grid so one
    training run explores them and selection keeps the best."""

    def __init__(self, problem: Problem, features: int, rng: np.random.Generator) -> None:
        hp = problem.hp
        self.hp = hp
        self.loss = losses.get(problem.loss, hp)
        self.optimizer = "adam" if hp["optimizer"] == AUTO else hp["optimizer"]
        count = DEFAULT_NUM_MODELS if hp["num_models"] == AUTO else hp["num_models"]
        index = np.arange(count)
        if hp["learning_rate"] == AUTO:
            top = 0.1 if self.optimizer in ("adam", "rmsprop") else 0.5
            self.lr = top * np.power(10.0, -(index % 4) / 2.0)  # top ... top/32
        else:
            self.lr = np.full(count, hp["learning_rate"])
        grid = np.asarray([0.0, 1e-4, 1e-3, 1e-2])
        self.wd = grid[(index // 4) % 4] if hp["wd"] == AUTO else np.full(count, hp["wd"])
        self.l1 = np.zeros(count) if hp["l1"] == AUTO else np.full(count, hp["l1"])
        self.rate = self.lr.copy()
        shape = (count, features, problem.outputs)
        if hp["init_method"] == "uniform":
            self.w = rng.uniform(-hp["init_scale"], hp["init_scale"], size=shape)
        else:
            self.w = rng.normal(0.0, hp["init_sigma"], size=shape)
        self.b = np.full((count, problem.outputs), hp["init_bias"] if hp["use_bias"] else 0.0)
        self.bias_lr = _auto(hp, "bias_lr_mult", 1.0) if hp["use_bias"] else 0.0
        self.bias_wd = _auto(hp, "bias_wd_mult", 0.0)
        self.opt = make_optimizer(self.optimizer, hp, (self.w.shape, self.b.shape))

    def outputs(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("nd,mdk->mnk", x, self.w) + self.b[:, None, :]

    def mean_loss(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
        value, _ = self.loss(self.outputs(x), y)
        return (value * weights).sum(axis=1) / weights.sum()

    def step(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """One minibatch update; returns each model's weighted loss on the batch."""
        value, grad = self.loss(self.outputs(x), y)
        total = weights.sum()
        g = grad * (weights / total)[None, :, None]
        gw = np.einsum("bd,mbk->mdk", x, g) + self.wd[:, None, None] * self.w
        gb = g.sum(axis=1) + (self.wd * self.bias_wd)[:, None] * self.b
        self.w, self.b = self.opt.step(self.w, self.b, gw, gb, self.rate, self.bias_lr)
        if self.l1.any():  # a proximal step, so L1 produces exact zeros
            shrink = (self.rate * self.l1)[:, None, None]
            self.w = np.sign(self.w) * np.maximum(np.abs(self.w) - shrink, 0.0)
        return (value * weights).sum(axis=1) / total

    def decay(self) -> None:
        hp = self.hp
        floor = np.minimum(_auto(hp, "lr_scheduler_minimum_lr", 1e-5), self.lr)
        self.rate = np.maximum(self.rate * _auto(hp, "lr_scheduler_factor", 0.99), floor)


def fit(
    problem: Problem,
    train_set: Dataset,
    validation: Dataset | None,
    log: Callable[[str], None],
) -> LinearModel:
    hp = problem.hp
    rng = np.random.default_rng(SEED)
    scaling = Scaling.fit(problem, train_set)
    x, y = scaling.apply(train_set)
    weights = sample_weights(problem, train_set.labels)
    watched = "validation" if validation is not None else "train"
    if validation is not None:
        x_eval, y_eval = scaling.apply(validation)
        w_eval = sample_weights(problem, validation.labels)
    else:
        x_eval, y_eval, w_eval = x, y, weights

    models = ParallelModels(problem, x.shape[1], rng)
    batch = min(hp["mini_batch_size"], x.shape[0])
    steps_per_epoch = -(-x.shape[0] // batch)
    decay_every = steps_per_epoch if hp["lr_scheduler_step"] == AUTO else hp["lr_scheduler_step"]
    best_loss = np.full(models.lr.size, np.inf)
    best_w, best_b = models.w.copy(), models.b.copy()
    overall_best, stale, steps = np.inf, 0, 0
    for epoch in range(1, hp["epochs"] + 1):
        order = rng.permutation(x.shape[0])
        train_loss = np.zeros(models.lr.size)
        for start in range(0, x.shape[0], batch):
            rows = order[start : start + batch]
            train_loss += models.step(x[rows], y[rows], weights[rows]) * rows.size
            steps += 1
            if hp["use_lr_scheduler"] and steps % decay_every == 0:
                models.decay()
        train_loss /= x.shape[0]
        eval_loss = models.mean_loss(x_eval, y_eval, w_eval)
        improved = eval_loss < best_loss  # keep each model's best epoch
        best_loss = np.where(improved, eval_loss, best_loss)
        best_w[improved], best_b[improved] = models.w[improved], models.b[improved]
        log(
            f"#progress epoch={epoch} train:objective_loss={train_loss.min():.6f} "
            f"{watched}:objective_loss={eval_loss.min():.6f}"
        )
        if eval_loss.min() < overall_best * (1 - hp["early_stopping_tolerance"]):
            overall_best, stale = float(eval_loss.min()), 0
        else:
            stale += 1
            if stale >= hp["early_stopping_patience"]:
                log(f"Early stopping: {watched}:objective_loss did not improve for {stale} epochs")
                break
    models.w, models.b = best_w, best_b
    limit = hp["num_calibration_samples"]
    return select(problem, models, scaling, x_eval[:limit], y_eval[:limit], w_eval[:limit], log)


def select(
    problem: Problem,
    models: ParallelModels,
    scaling: Scaling,
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    log: Callable[[str], None],
) -> LinearModel:
    """The best model on (x, y) by the selection criterion, ties broken by lower loss."""
    hp = problem.hp
    mean_loss = models.mean_loss(x, y, weights)
    outputs = models.outputs(x)
    criterion = hp["binary_classifier_model_selection_criteria"]
    candidates = []
    for i in range(models.lr.size):
        z = outputs[i]
        threshold = 0.5 if problem.loss == "logistic" else 0.0
        quality = -float(mean_loss[i])
        if problem.predictor_type == BINARY and criterion != "loss_function":
            scores = sigmoid(z[:, 0]) if problem.loss == "logistic" else z[:, 0]
            threshold, quality = metrics.best_threshold(
                scores, y, criterion, hp["f_beta"], hp["target_recall"], hp["target_precision"]
            )
        elif problem.predictor_type == MULTICLASS:
            quality = float((z.argmax(axis=1) == y).mean())
        candidates.append((quality, -float(mean_loss[i]), -i, threshold))
    quality, _, neg_index, threshold = max(candidates)
    index = -neg_index
    log(
        f"Selected model {index + 1} of {len(candidates)} (selection score {quality:.6f}, "
        f"threshold {threshold:.6f})"
    )
    return LinearModel(
        predictor_type=problem.predictor_type,
        loss=problem.loss,
        weights=models.w[index],
        bias=models.b[index],
        feature_mean=scaling.mean,
        feature_scale=scaling.scale,
        label_mean=scaling.label_mean,
        label_scale=scaling.label_scale,
        threshold=threshold,
    )
