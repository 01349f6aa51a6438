"""Hyperparameter parsing and validation with the algorithm toolkit's wording."""

from __future__ import annotations

import pytest

from cove.jobs.training.algorithms import linear_learner, xgboost
from cove.jobs.training.errors import ClientError, failure_reason
from cove.jobs.training.hyperparameters import AUTO, validate


def test_defaults_and_parsing() -> None:
    hp = validate(linear_learner.HYPERPARAMETERS, {"predictor_type": "regressor",
                                                  "epochs": "4", "normalize_data": "False",
                                                  "learning_rate": "auto", "wd": "0.01"})
    assert hp["epochs"] == 4 and hp["normalize_data"] is False
    assert hp["learning_rate"] == AUTO and hp["wd"] == 0.01
    assert hp["mini_batch_size"] == 1000 and hp["feature_dim"] == AUTO


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "Missing required hyperparameter: predictor_type"),
        ({"predictor_type": "classifier"},
         "Hyperparameter predictor_type: 'classifier' is not one of binary_classifier, "
         "multiclass_classifier, regressor"),
        ({"predictor_type": "regressor", "epoch": "3"},
         "Extraneous hyperparameter found: epoch (did you mean 'epochs'?)"),
        ({"predictor_type": "regressor", "epochs": "ten"},
         "Hyperparameter epochs: could not parse value 'ten' (expected an integer)"),
        ({"predictor_type": "regressor", "epochs": "0"}, "Hyperparameter epochs: 0 is not in"),
        ({"predictor_type": "regressor", "use_bias": "maybe"},
         "Hyperparameter use_bias: could not parse value 'maybe' (expected true or false)"),
    ],
)
def test_linear_learner_errors_say_what_to_fix(given: dict, message: str) -> None:
    with pytest.raises(ClientError) as err:
        validate(linear_learner.HYPERPARAMETERS, given)
    assert str(err.value).startswith(message)
    assert failure_reason(err.value).startswith("ClientError: ")


def test_xgboost_requires_num_round_and_checks_ranges() -> None:
    with pytest.raises(ClientError, match="Missing required hyperparameter: num_round"):
        validate(xgboost.HYPERPARAMETERS, {"objective": "binary:logistic"})
    with pytest.raises(ClientError, match=r"Hyperparameter eta: 1.5 is not in \[0, 1\]"):
        validate(xgboost.HYPERPARAMETERS, {"num_round": "3", "eta": "1.5"})
    hp = validate(xgboost.HYPERPARAMETERS, {"num_round": "3", "max_depth": "2"})
    assert hp == {"num_round": 3, "max_depth": 2, "objective": "reg:squarederror",
                  "csv_weights": 0}


def test_underscore_names_are_ignored_like_tuning_metadata() -> None:
    hp = validate(xgboost.HYPERPARAMETERS, {"num_round": "1", "_tuning_objective_metric": "x"})
    assert "_tuning_objective_metric" not in hp
