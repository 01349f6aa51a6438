"""SageMaker's built-in linear learner, in numpy.

Like the original it trains several models at once (`num_models`, each with its own
learning rate and weight decay when those are `auto`) with minibatch SGD / Adam /
RMSProp on standardized features, stops early when the validation (else training)
objective stops improving, and keeps the model that is best on the validation (else
training) data by `binary_classifier_model_selection_criteria`, with the decision
threshold that criterion selects.
"""

from __future__ import annotations

import numpy as np

from cove.formats.linear_model import (
    BINARY,
    MULTICLASS,
    REGRESSOR,
    LinearModel,
)
from cove.jobs.training.algorithms import losses, metrics
from cove.jobs.training.algorithms.linear_fit import Problem, fit
from cove.jobs.training.datasets import (
    CSV,
    RECORDIO,
    Dataset,
    looks_like_recordio,
    media_type,
    read_csv,
    read_recordio,
)
from cove.jobs.training.environment import TrainingEnv
from cove.jobs.training.errors import ClientError
from cove.jobs.training.hyperparameters import AUTO, Param, validate

CHANNELS = {"train": True, "validation": False, "test": False}  # name -> required
CONTENT_TYPES = (RECORDIO, CSV)

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
        raise ClientError(
            "Hyperparameter normalize_label: labels can only be normalized "
            "for predictor_type regressor"
        )
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
    directory = env.channel_dir(name)
    # Without a ContentType SageMaker's linear learner expects its default, RecordIO.
    sniffed = RECORDIO if looks_like_recordio(directory) else CSV
    kind = media_type(env.content_type(name)) or sniffed
    if kind == RECORDIO:
        return read_recordio(directory, name, env.compressed(name))
    if kind != CSV:
        raise ClientError(
            f"The {name} channel's ContentType {kind} is not supported; linear-learner "
            f"reads {', '.join(CONTENT_TYPES)}"
        )
    return read_csv(directory, name, env.compressed(name))


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


def _report(env: TrainingEnv, problem: Problem, model: LinearModel, data: dict) -> None:
    loss = losses.get(problem.loss, problem.hp)
    for channel, ds in data.items():
        names = ["objective_loss"] if channel == "train" else None
        for name, value in evaluate(problem, model, ds, loss).items():
            if names is None or name in names:
                env.metric(f"{channel}:{name}", value)


def evaluate(
    problem: Problem, model: LinearModel, ds: Dataset, loss: losses.Loss
) -> dict[str, float]:
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
