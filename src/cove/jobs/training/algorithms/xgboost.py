"""SageMaker's built-in XGBoost algorithm on the real xgboost library.

Hyperparameters are those of the SageMaker XGBoost container (num_round required,
objective defaulting to reg:squarederror, eval_metric, early_stopping_rounds,
csv_weights, ...); everything else goes to xgboost.train as booster parameters. The
model is saved as `xgboost-model` with Booster.save_model, which the XGBoost serving
stack loads."""

from __future__ import annotations

import os
from pathlib import Path

import xgboost as xgb

from cove.jobs.training.datasets import (
    CSV,
    LIBSVM,
    channel_files,
    concatenate_text,
    media_type,
    read_csv,
)
from cove.jobs.training.environment import TrainingEnv
from cove.jobs.training.errors import ClientError
from cove.jobs.training.hyperparameters import Param, validate

MODEL_FILE = "xgboost-model"
CHANNELS = {"train": True, "validation": False}
CONTENT_TYPES = (CSV, LIBSVM)

OBJECTIVES = (
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "count:poisson",
    "multi:softmax",
    "multi:softprob",
    "rank:pairwise",
    "rank:ndcg",
    "rank:map",
    "reg:linear",
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:absoluteerror",
    "reg:quantileerror",
    "reg:gamma",
    "reg:tweedie",
    "survival:cox",
    "survival:aft",
)
_POS = {"lo": 0.0, "lo_open": True}
_NONNEG = {"lo": 0.0}
_UNIT = {"lo": 0.0, "hi": 1.0}
_FLAG = {"lo": 0, "hi": 1}

HYPERPARAMETERS = (
    Param("num_round", "int", required=True, lo=1),
    Param("objective", "enum", default="reg:squarederror", choices=OBJECTIVES),
    Param("num_class", "int", lo=2),
    Param("eta", "float", **_UNIT),
    Param("gamma", "float", **_NONNEG),
    Param("max_depth", "int", **_NONNEG),
    Param("min_child_weight", "float", **_NONNEG),
    Param("max_delta_step", "float", **_NONNEG),
    Param("subsample", "float", lo=0, hi=1, lo_open=True),
    Param("colsample_bytree", "float", lo=0, hi=1, lo_open=True),
    Param("colsample_bylevel", "float", lo=0, hi=1, lo_open=True),
    Param("colsample_bynode", "float", lo=0, hi=1, lo_open=True),
    Param("lambda", "float", **_NONNEG),
    Param("alpha", "float", **_NONNEG),
    Param("tree_method", "enum", choices=("auto", "exact", "approx", "hist")),
    Param("sketch_eps", "float", lo=0, hi=1, lo_open=True, hi_open=True),
    Param("scale_pos_weight", "float", **_POS),
    Param("grow_policy", "enum", choices=("depthwise", "lossguide")),
    Param("max_leaves", "int", **_NONNEG),
    Param("max_bin", "int", lo=2),
    Param("booster", "enum", choices=("gbtree", "gblinear", "dart")),
    Param("sample_type", "enum", choices=("uniform", "weighted")),
    Param("normalize_type", "enum", choices=("tree", "forest")),
    Param("rate_drop", "float", **_UNIT),
    Param("one_drop", "int", **_FLAG),
    Param("skip_drop", "float", **_UNIT),
    Param("tweedie_variance_power", "float", lo=1, hi=2, lo_open=True, hi_open=True),
    Param("huber_slope", "float", **_POS),
    Param("quantile_alpha", "float", lo=0, hi=1, lo_open=True, hi_open=True),
    Param("base_score", "float"),
    Param("eval_metric", "str"),
    Param("seed", "int"),
    Param("early_stopping_rounds", "int", lo=1),
    Param("csv_weights", "int", default="0", **_FLAG),
    Param("verbosity", "int", lo=0, hi=3),
    Param("nthread", "int", lo=1),
    Param("num_parallel_tree", "int", lo=1),
    Param("monotone_constraints", "str"),
    Param("interaction_constraints", "str"),
    Param("refresh_leaf", "int", **_FLAG),
    Param("process_type", "enum", choices=("default", "update")),
    Param("max_cat_to_onehot", "int", lo=1),
)
# Container-level settings, not booster parameters.
_NOT_BOOSTER = {"num_round", "early_stopping_rounds", "csv_weights"}
_MULTICLASS = ("multi:softmax", "multi:softprob")


def train(env: TrainingEnv) -> None:
    script = [k for k in env.hyperparameters if k.startswith("sagemaker_")]
    if script:
        raise ClientError(
            f"Hyperparameter {script[0]}: script mode (a training script of your own) is not "
            "supported by Cove; run the built-in XGBoost algorithm with its hyperparameters"
        )
    hp = validate(HYPERPARAMETERS, env.hyperparameters)
    if hp["objective"] in _MULTICLASS and "num_class" not in hp:
        raise ClientError(
            f"Missing required hyperparameter: num_class (required when objective is "
            f"{hp['objective']})"
        )
    if hp["objective"] == "reg:linear":  # the old name, removed from xgboost 2
        hp["objective"] = "reg:squarederror"
    matrices = {
        name: _matrix(env, name, bool(hp["csv_weights"]))
        for name in CHANNELS
        if env.channel_dir(name).is_dir()
    }
    params = {k: v for k, v in hp.items() if k not in _NOT_BOOSTER}
    if "eval_metric" in params:
        params["eval_metric"] = params["eval_metric"].split(",")
    params.setdefault("nthread", env_threads())
    env.log(
        f"xgboost: objective {params['objective']}, {hp['num_round']} rounds, "
        f"{matrices['train'].num_row()} training rows x {matrices['train'].num_col()} features"
    )
    evals = [(m, name) for name, m in matrices.items()]
    history: dict[str, dict[str, list[float]]] = {}
    try:
        booster = xgb.train(
            params,
            matrices["train"],
            num_boost_round=hp["num_round"],
            evals=evals,
            early_stopping_rounds=hp.get("early_stopping_rounds"),
            evals_result=history,
            verbose_eval=True,
        )
    except xgb.core.XGBoostError as exc:
        raise ClientError(f"XGBoost rejected the configuration: {_first_line(exc)}") from None
    # XGBoost picks the format by extension; the container's file name has none.
    saved = env.model_dir / f"{MODEL_FILE}.ubj"
    booster.save_model(str(saved))
    saved.rename(env.model_dir / MODEL_FILE)
    best = getattr(booster, "best_iteration", None)
    for channel, metrics in history.items():
        for metric, values in metrics.items():
            value = values[best] if best is not None and best < len(values) else values[-1]
            env.metric(f"{channel}:{metric}", value)


def env_threads() -> int:
    """The CPUs this job may use (the runner pins jobs to the instance type's vCPUs)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def _first_line(exc: Exception) -> str:
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return next((ln for ln in lines if "Check failed" in ln or "Invalid" in ln), lines[0])


def _matrix(env: TrainingEnv, channel: str, weighted: bool) -> xgb.DMatrix:
    directory = env.channel_dir(channel)
    kind = media_type(env.content_type(channel)) or _sniff(directory)
    if kind in ("text/x-libsvm", "libsvm"):
        kind = LIBSVM
    if kind not in CONTENT_TYPES:
        raise ClientError(
            f"The {channel} channel's ContentType {kind} is not supported; XGBoost reads "
            f"{', '.join(CONTENT_TYPES)}"
        )
    if kind == LIBSVM:
        return _libsvm(env, channel, directory)
    data = read_csv(directory, channel, env.compressed(channel))
    features, weights = data.features, None
    if weighted:
        weights, features = features[:, 0], features[:, 1:]
    return xgb.DMatrix(features, label=data.labels, weight=weights)


def _libsvm(env: TrainingEnv, channel: str, directory: Path) -> xgb.DMatrix:
    joined = concatenate_text(directory, env.scratch / f"{channel}.libsvm", env.compressed(channel))
    try:
        return xgb.DMatrix(f"{joined}?format=libsvm")
    except xgb.core.XGBoostError as exc:
        raise ClientError(
            f"Unable to read the {channel} channel as LibSVM ('<label> <index>:<value> ...' "
            f"per line): {_first_line(exc)}"
        ) from None


def _sniff(directory: Path) -> str:
    """No ContentType given: LibSVM if the first record has index:value pairs, else CSV."""
    for path in channel_files(directory):
        head = path.read_bytes()[:4096]
        if head[:2] == b"\x1f\x8b":
            return CSV
        for line in head.decode("utf-8", "replace").splitlines():
            if line.strip():
                return LIBSVM if ":" in line and "," not in line else CSV
    return CSV
