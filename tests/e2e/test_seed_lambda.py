"""Seed 004's Lambda function, unmodified, against a Cove endpoint serving the
linear learner trained on the breast-cancer data: the seed's row answers "B"."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from training_support import SEED_ROW, cancer_rows, train_and_deploy_linear_learner

FIXTURE = Path(__file__).parents[2] / "examples" / "seed004" / "lambda_function.py"


def load_lambda(monkeypatch, server, endpoint: str):  # type: ignore[no-untyped-def]
    """Import the seed's module the way Lambda would, with its environment set."""
    for key, value in server.aws_env().items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("ENDPOINT_NAME", endpoint)
    spec = importlib.util.spec_from_file_location("seed004_lambda_function", FIXTURE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_lambda_handler_answers_b(server, monkeypatch, capsys) -> None:
    endpoint = train_and_deploy_linear_learner(server, "seed004")
    function = load_lambda(monkeypatch, server, endpoint)

    assert function.lambda_handler({"data": SEED_ROW}, None) == "B"
    assert "'predicted_label': 0" in capsys.readouterr().out  # the handler prints the result

    _, validation = cancer_rows()
    malignant = next(row for row in validation if row[0] == 1 and row[1] > 20)
    row = ",".join(repr(float(v)) for v in malignant[1:])
    assert function.lambda_handler({"data": row}, None) == "M"
