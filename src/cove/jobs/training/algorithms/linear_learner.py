"""SageMaker's built-in linear learner, in numpy.

Like the original it trains several models at once (`num_models`, each with its own
learning rate and weight decay when those are `auto`) with minibatch SGD / Adam /
RMSProp on standardized features, stops early when the validation (else training)
objective stops improving, and keeps the model that is best on the validation (else
training) data by `binary_classifier_model_selection_criteria`, with the decision
threshold that criterion selects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cove.jobs.training.algorithms import losses, metrics
from cove.jobs.training.algorithms.linear_model import (
    BINARY,
    MULTICLASS,
    REGRESSOR,
    LinearModel,
    sigmoid,
)
from cove.jobs.training.algorithms.optimizers import make_optimizer
from cove.jobs.training.datasets import CSV, RECORDIO, Dataset, media_type, read_csv
from cove.jobs.training.environment import TrainingEnv
from cove.jobs.training.errors import ClientError
from cove.jobs.training.hyperparameters import AUTO, Param, validate

CHANNELS = {"train": True, "validation": False, "test": False}  # name -> required
CONTENT_TYPES = (CSV,)

_UNIT = {"lo": 0.0, "hi": 1.0, "lo_open": True, "hi_open": True}
HYPERPARAMETERS = (
    Param("predictor_type", "enum", required=True, choices=(BINARY, MULTICLASS, REGRESSOR)),
    Param("num_classes", "int", lo=3, hi=1_000_000),
    Param("accuracy_top_k", "int", default="3", lo=1),
    Param("balance_multiclass_weights", "bool", default="false"),
    Param("beta_1", "float", default=AUTO, auto=True, **_UNIT),
    Param("beta_2", "float", default=AUTO, auto=True, **_UNIT),
    Param("bias_lr_mult", "float", default=AUTO, auto=True, lo=0, lo_open=True),
    Param("bias_wd_mult", "float", default=AUTO, auto=True, lo=0),
    Param(
        "binary_classifier_model_selection_criteria",
        "enum",
        default="accuracy",
        choices=(
            "accuracy",
            "f_beta",
            "precision_at_target_recall",
            "recall_at_target_precision",
            "loss_function",
        ),
    ),
    Param("early_stopping_patience", "int", default="3", lo=1),
    Param("early_stopping_tolerance", "float", default="0.001", lo=0, lo_open=True),
    Param("epochs", "int", default="15", lo=1),
    Param("f_beta", "float", default="1.0", lo=0, lo_open=True),
    Param("feature_dim", "int", default=AUTO, auto=True, lo=1),
    Param("huber_delta", "float", default="1.0", lo=0, lo_open=True),
    Param("init_bias", "float", default="0"),
    Param("init_method", "enum", default="uniform", choices=("uniform", "normal")),
    Param("init_scale", "float", default="0.07", lo=0, lo_open=True),
    Param("init_sigma", "float", default="0.01", lo=0, lo_open=True),
    Param("l1", "float", default=AUTO, auto=True, lo=0),
    Param("learning_rate", "float", default=AUTO, auto=True, lo=0, lo_open=True),
    Param("loss", "enum", default=AUTO, choices=(AUTO, *losses.ALL)),
    Param("loss_insensitivity", "float", default="0.01", lo=0, lo_open=True),
    Param("lr_scheduler_factor", "float", default=AUTO, auto=True, **_UNIT),
    Param("lr_scheduler_minimum_lr", "float", default=AUTO, auto=True, lo=0, lo_open=True),
    Param("lr_scheduler_step", "int", default=AUTO, auto=True, lo=1),
    Param("margin", "float", default="1.0", lo=0, lo_open=True),
    Param("mini_batch_size", "int", default="1000", lo=1),
    Param("momentum", "float", default=AUTO, auto=True, lo=0, hi=1, hi_open=True),
    Param("normalize_data", "bool", default="true"),
    Param("normalize_label", "bool", default=AUTO, auto=True),
    Param("num_calibration_samples", "int", default="10000000", lo=1),
    Param("num_models", "int", default=AUTO, auto=True, lo=1),
    Param("num_point_for_scaler", "int", default="10000", lo=1),
    Param("optimizer", "enum", default=AUTO, choices=(AUTO, "sgd", "adam", "rmsprop")),
    Param("positive_example_weight_mult", "str", default="1.0"),
    Param("quantile", "float", default="0.5", **_UNIT),
    Param("target_precision", "float", default="0.8", lo=0, hi=1, lo_open=True),
    Param("target_recall", "float", default="0.8", lo=0, hi=1, lo_open=True),
    Param("unbias_data", "bool", default=AUTO, auto=True),
    Param("unbias_label", "bool", default=AUTO, auto=True),
    Param("use_bias", "bool", default="true"),
    Param("use_lr_scheduler", "bool", default="true"),
    Param("wd", "float", default=AUTO, auto=True, lo=0),
)

DEFAULT_NUM_MODELS = 8
SEED = 17


@dataclass
class Problem:
    """The validated hyperparameters plus what they imply for this data."""

    hp: dict
    predictor_type: str
    loss: str
    outputs: int  # columns of the weight matrix


def train(env: TrainingEnv) -> None:
    hp = validate(HYPERPARAMETERS, env.hyperparameters)
    problem = _problem(hp)
    data = {name: _read_channel(env, name) for name in CHANNELS if env.channel_dir(name).is_dir()}
    train_set = data["train"]
    dim = train_set.features.shape[1]
    if hp["feature_dim"] != AUTO and hp["feature_dim"] != dim:
        raise ClientError(
            f"Hyperparameter feature_dim is {hp['feature_dim']} but the train channel has "
            f"{dim} features (columns after the label); set feature_dim to {dim} or auto"
        )
    for name, ds in data.items():
        if ds.features.shape[1] != dim:
            raise ClientError(
                f"The {name} channel has {ds.features.shape[1]} features but the train "
                f"channel has {dim}; every channel needs the same columns"
            )
        _check_labels(problem, ds, name)
    env.log(
        f"linear-learner: {problem.predictor_type}, loss {problem.loss}, "
        f"{train_set.features.shape[0]} training rows x {dim} features"
    )
    model = fit(problem, train_set, data.get("validation"), env.log)
    model.save(env.model_dir)
    _report(env, problem, model, data)


def _problem(hp: dict) -> Problem:
    kind = hp["predictor_type"]
    if kind == MULTICLASS and "num_classes" not in hp:
        raise ClientError(
            "Missing required hyperparameter: num_classes "
            "(required when predictor_type is multiclass_classifier)"
        )
    loss = losses.default_for(kind) if hp["loss"] == AUTO else hp["loss"]
    if loss not in losses.FOR_PREDICTOR[kind]:
        raise ClientError(
            f"Hyperparameter loss: {loss} cannot be used with predictor_type {kind}; "
            f"use one of {', '.join(losses.FOR_PREDICTOR[kind])} or auto"
        )
    if kind != REGRESSOR and hp["normalize_label"] is True:
        raise ClientError("Hyperparameter normalize_label: labels can only be normalized "
                          "for predictor_type regressor")
    weight_mult = hp["positive_example_weight_mult"]
    if weight_mult not in (AUTO, "balanced"):
        try:
            if float(weight_mult) <= 0:
                raise ValueError
        except ValueError:
            raise ClientError(
                f"Hyperparameter positive_example_weight_mult: '{weight_mult}' must be "
                "auto, balanced or a positive number"
            ) from None
    outputs = hp["num_classes"] if kind == MULTICLASS else 1
    return Problem(hp, kind, loss, outputs)


def _read_channel(env: TrainingEnv, name: str) -> Dataset:
    kind = media_type(env.content_type(name)) or CSV
    if kind == RECORDIO:
        raise ClientError(
            f"The {name} channel's ContentType is {RECORDIO}; Cove's linear-learner reads "
            "text/csv (label in the first column, no header). Upload CSV and set "
            "ContentType to text/csv"
        )
    if kind != CSV:
        raise ClientError(
            f"The {name} channel's ContentType {kind} is not supported; linear-learner "
            f"reads {', '.join(CONTENT_TYPES)}"
        )
    return read_csv(env.channel_dir(name), name, env.compressed(name))


def _check_labels(problem: Problem, ds: Dataset, channel: str) -> None:
    y = ds.labels
    if problem.predictor_type == BINARY:
        bad = y[(y != 0) & (y != 1)]
        if bad.size:
            raise ClientError(
                f"The {channel} channel has label {bad[0]:g}; binary_classifier needs "
                "labels 0 or 1 in the first column"
            )
    elif problem.predictor_type == MULTICLASS:
        n = problem.outputs
        bad = y[(y != np.round(y)) | (y < 0) | (y >= n)]
        if bad.size:
            raise ClientError(
                f"The {channel} channel has label {bad[0]:g}; with num_classes={n} labels "
                f"must be integers 0 to {n - 1}"
            )


# ----------------------------------------------------------------------------- training


@dataclass
class Scaler:
    mean: np.ndarray
    scale: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale


def _feature_scaler(hp: dict, x: np.ndarray) -> Scaler:
    dim = x.shape[1]
    if not hp["normalize_data"]:
        return Scaler(np.zeros(dim), np.ones(dim))
    sample = x[: hp["num_point_for_scaler"]]
    center = hp["use_bias"] if hp["unbias_data"] == AUTO else hp["unbias_data"]
    mean = sample.mean(axis=0) if center else np.zeros(dim)
    scale = sample.std(axis=0)
    scale[scale == 0] = 1.0  # constant columns carry no signal; leave them unscaled
    return Scaler(mean, scale)


def _label_scaler(problem: Problem, y: np.ndarray) -> tuple[float, float]:
    hp = problem.hp
    if problem.predictor_type != REGRESSOR:
        return 0.0, 1.0
    normalize = True if hp["normalize_label"] == AUTO else hp["normalize_label"]
    if not normalize:
        return 0.0, 1.0
    sample = y[: hp["num_point_for_scaler"]]
    center = hp["use_bias"] if hp["unbias_label"] == AUTO else hp["unbias_label"]
    scale = float(sample.std()) or 1.0
    return (float(sample.mean()) if center else 0.0), scale


def _sample_weights(problem: Problem, y: np.ndarray) -> np.ndarray:
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
        counts = np.bincount(y.astype(np.int64), minlength=problem.outputs).astype(np.float64)
        per_class = y.size / (problem.outputs * np.maximum(counts, 1.0))
        weights = per_class[y.astype(np.int64)]
    return weights


def _model_grid(hp: dict, optimizer: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Learning rate, L2 and L1 per parallel model: `auto` values are spread over a grid
    so the models explore different settings and selection keeps the best."""
    m = DEFAULT_NUM_MODELS if hp["num_models"] == AUTO else hp["num_models"]
    idx = np.arange(m)
    if hp["learning_rate"] == AUTO:
        top = 0.1 if optimizer in ("adam", "rmsprop") else 0.5
        lr = top * np.power(10.0, -(idx % 4) / 2.0)  # top, top/3.2, top/10, top/32
    else:
        lr = np.full(m, hp["learning_rate"])
    wd = np.asarray([0.0, 1e-4, 1e-3, 1e-2])[(idx // 4) % 4] if hp["wd"] == AUTO else np.full(
        m, hp["wd"]
    )
    l1 = np.zeros(m) if hp["l1"] == AUTO else np.full(m, hp["l1"])
    return lr, wd, l1


def fit(
    problem: Problem,
    train_set: Dataset,
    validation: Dataset | None,
    log: Callable[[str], None],
) -> LinearModel:
    hp = problem.hp
    rng = np.random.default_rng(SEED)
    scaler = _feature_scaler(hp, train_set.features)
    label_mean, label_scale = _label_scaler(problem, train_set.labels)
    x = scaler.apply(train_set.features)
    y = (train_set.labels - label_mean) / label_scale
    weights = _sample_weights(problem, train_set.labels)
    loss = losses.get(problem.loss, hp)
    optimizer_name = "adam" if hp["optimizer"] == AUTO else hp["optimizer"]
    lr, wd, l1 = _model_grid(hp, optimizer_name)
    m, dim, k = lr.size, x.shape[1], problem.outputs

    if hp["init_method"] == "uniform":
        w = rng.uniform(-hp["init_scale"], hp["init_scale"], size=(m, dim, k))
    else:
        w = rng.normal(0.0, hp["init_sigma"], size=(m, dim, k))
    b = np.full((m, k), hp["init_bias"]) if hp["use_bias"] else np.zeros((m, k))
    bias_lr = 1.0 if hp["bias_lr_mult"] == AUTO else hp["bias_lr_mult"]
    bias_wd = 0.0 if hp["bias_wd_mult"] == AUTO else hp["bias_wd_mult"]
    opt = make_optimizer(optimizer_name, hp, (w.shape, b.shape))

    if validation is not None:
        x_eval = scaler.apply(validation.features)
        y_eval = (validation.labels - label_mean) / label_scale
        w_eval = _sample_weights(problem, validation.labels)
        watched = "validation"
    else:
        x_eval, y_eval, w_eval, watched = x, y, weights, "train"

    batch = min(hp["mini_batch_size"], x.shape[0])
    steps_per_epoch = int(np.ceil(x.shape[0] / batch))
    sched_step = steps_per_epoch if hp["lr_scheduler_step"] == AUTO else hp["lr_scheduler_step"]
    sched_factor = 0.99 if hp["lr_scheduler_factor"] == AUTO else hp["lr_scheduler_factor"]
    min_lr = 1e-5 if hp["lr_scheduler_minimum_lr"] == AUTO else hp["lr_scheduler_minimum_lr"]
    rate = lr.copy()

    best_loss = np.full(m, np.inf)
    best_w, best_b = w.copy(), b.copy()
    overall_best, stale, step = np.inf, 0, 0
    for epoch in range(1, hp["epochs"] + 1):
        order = rng.permutation(x.shape[0])
        train_loss = np.zeros(m)
        for start in range(0, x.shape[0], batch):
            rows = order[start : start + batch]
            xb, yb, sb = x[rows], y[rows], weights[rows]
            z = np.einsum("bd,mdk->mbk", xb, w) + b[:, None, :]
            value, grad = loss(z, yb)
            total = sb.sum()
            train_loss += (value * sb).sum(axis=1) / total * rows.size
            g = grad * (sb / total)[None, :, None]
            gw = np.einsum("bd,mbk->mdk", xb, g) + wd[:, None, None] * w
            gb = g.sum(axis=1) + (wd * bias_wd)[:, None] * b
            w, b = opt.step(w, b, gw, gb, rate, bias_lr if hp["use_bias"] else 0.0)
            if l1.any():  # proximal step keeps L1 exact zeros
                shrink = (rate * l1)[:, None, None]
                w = np.sign(w) * np.maximum(np.abs(w) - shrink, 0.0)
            step += 1
            if hp["use_lr_scheduler"] and step % sched_step == 0:
                rate = np.maximum(rate * sched_factor, np.minimum(min_lr, lr))
        train_loss /= x.shape[0]
        eval_loss = _mean_loss(loss, w, b, x_eval, y_eval, w_eval)
        improved = eval_loss < best_loss
        best_loss = np.where(improved, eval_loss, best_loss)
        best_w[improved], best_b[improved] = w[improved], b[improved]
        log(
            f"#progress epoch={epoch} train:objective_loss={train_loss.min():.6f} "
            f"{watched}:objective_loss={eval_loss.min():.6f}"
        )
        current = float(eval_loss.min())
        if current < overall_best * (1 - hp["early_stopping_tolerance"]):
            overall_best, stale = current, 0
        else:
            stale += 1
            if stale >= hp["early_stopping_patience"]:
                log(f"Early stopping: {watched}:objective_loss did not improve for {stale} epochs")
                break

    return _select(problem, best_w, best_b, scaler, label_mean, label_scale, x_eval, y_eval,
                   w_eval, loss, log)


def _mean_loss(loss, w, b, x, y, sample_w) -> np.ndarray:  # type: ignore[no-untyped-def]
    z = np.einsum("nd,mdk->mnk", x, w) + b[:, None, :]
    value, _ = loss(z, y)
    return (value * sample_w).sum(axis=1) / sample_w.sum()


def _select(
    problem: Problem, w, b, scaler: Scaler, label_mean: float, label_scale: float,  # type: ignore[no-untyped-def]
    x_eval: np.ndarray, y_eval: np.ndarray, w_eval: np.ndarray, loss, log,
) -> LinearModel:
    """Pick the best of the parallel models (and the binary threshold) on the eval data."""
    hp = problem.hp
    limit = hp["num_calibration_samples"]
    x_cal, y_cal, s_cal = x_eval[:limit], y_eval[:limit], w_eval[:limit]
    mean_loss = _mean_loss(loss, w, b, x_cal, y_cal, s_cal)
    candidates = []
    for i in range(w.shape[0]):
        model = LinearModel(
            predictor_type=problem.predictor_type,
            loss=problem.loss,
            weights=w[i],
            bias=b[i],
            feature_mean=scaler.mean,
            feature_scale=scaler.scale,
            label_mean=label_mean,
            label_scale=label_scale,
            threshold=0.5 if problem.loss == "logistic" else 0.0,
        )
        z = x_cal @ w[i] + b[i]  # x_cal is already standardized
        quality = -mean_loss[i]
        if problem.predictor_type == BINARY:
            scores = sigmoid(z[:, 0]) if problem.loss == "logistic" else z[:, 0]
            criterion = hp["binary_classifier_model_selection_criteria"]
            if criterion != "loss_function":
                model.threshold, quality = metrics.best_threshold(
                    scores, y_cal, criterion, hp["f_beta"], hp["target_recall"],
                    hp["target_precision"],
                )
        elif problem.predictor_type == MULTICLASS:
            quality = float((z.argmax(axis=1) == y_cal).mean())
        candidates.append((quality, -mean_loss[i], i, model))
    quality, _, index, best = max(candidates, key=lambda c: (c[0], c[1], -c[2]))
    log(f"Selected model {index} of {len(candidates)} (selection score {quality:.6f}, "
        f"threshold {best.threshold:.6f})")
    return best


# ----------------------------------------------------------------------------- metrics


def _report(env: TrainingEnv, problem: Problem, model: LinearModel, data: dict) -> None:
    loss = losses.get(problem.loss, problem.hp)
    for channel, ds in data.items():
        names = ["objective_loss"] if channel == "train" else None
        for name, value in evaluate(problem, model, ds, loss).items():
            if names is None or name in names:
                env.metric(f"{channel}:{name}", value)


def evaluate(problem: Problem, model: LinearModel, ds: Dataset, loss) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The linear learner's documented metrics for one channel."""
    hp = problem.hp
    z = model.raw(ds.features)
    y = ds.labels
    scaled_y = (y - model.label_mean) / model.label_scale
    value, _ = loss(z[None], scaled_y)
    out = {"objective_loss": float(value.mean())}
    if problem.predictor_type == BINARY:
        scores = model.score(ds.features)
        out.update(metrics.binary_metrics(scores, y, model.threshold, hp["f_beta"]))
    elif problem.predictor_type == MULTICLASS:
        out.update(metrics.multiclass_metrics(z, y, hp["accuracy_top_k"], hp["f_beta"]))
    else:
        pred = model.score(ds.features)
        err = pred - y
        out.update(
            mse=float(np.mean(err**2)),
            rmse=float(np.sqrt(np.mean(err**2))),
            absolute_loss=float(np.mean(np.abs(err))),
        )
    return out
