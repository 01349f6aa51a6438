"""The linear-learner model artifact Cove writes and serves.

A trained model is one JSON document (`linear-learner-model.json` inside model.tar.gz):
weights and bias in the standardized feature space, the scaler that maps raw features
into it, the label scaler (regression), and the decision threshold chosen by
`binary_classifier_model_selection_criteria`. JSON keeps the artifact portable and safe
to load (no pickle)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_FILE = "linear-learner-model.json"
FORMAT = "cove-linear-learner/1"

BINARY = "binary_classifier"
MULTICLASS = "multiclass_classifier"
REGRESSOR = "regressor"


class ModelFormatError(Exception):
    pass


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


def softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class LinearModel:
    predictor_type: str
    loss: str
    weights: np.ndarray  # (features, outputs): outputs = classes for multiclass, else 1
    bias: np.ndarray  # (outputs,)
    feature_mean: np.ndarray  # (features,)
    feature_scale: np.ndarray  # (features,)
    label_mean: float = 0.0
    label_scale: float = 1.0
    threshold: float = 0.5  # binary: predicted_label = score >= threshold

    @property
    def feature_dim(self) -> int:
        return int(self.weights.shape[0])

    @property
    def num_classes(self) -> int:
        return int(self.weights.shape[1]) if self.predictor_type == MULTICLASS else 2

    def raw(self, features: np.ndarray) -> np.ndarray:
        """Linear outputs (rows, outputs) for raw (unscaled) features."""
        standardized = (features - self.feature_mean) / self.feature_scale
        return standardized @ self.weights + self.bias

    def score(self, features: np.ndarray) -> np.ndarray:
        """What the endpoint reports as `score`: a probability for logistic and softmax
        losses, the margin for hinge loss, the prediction in label units for regression."""
        z = self.raw(features)
        if self.predictor_type == MULTICLASS:
            return softmax(z)
        if self.predictor_type == BINARY:
            return sigmoid(z[:, 0]) if self.loss == "logistic" else z[:, 0]
        return z[:, 0] * self.label_scale + self.label_mean

    def predicted_label(self, scores: np.ndarray) -> np.ndarray:
        if self.predictor_type == MULTICLASS:
            return scores.argmax(axis=1)
        return (scores >= self.threshold).astype(np.int64)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "predictor_type": self.predictor_type,
            "loss": self.loss,
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
            "feature_mean": self.feature_mean.tolist(),
            "feature_scale": self.feature_scale.tolist(),
            "label_mean": self.label_mean,
            "label_scale": self.label_scale,
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, doc: dict) -> LinearModel:
        if doc.get("format") != FORMAT:
            raise ModelFormatError(f"unknown linear-learner model format {doc.get('format')!r}")
        return cls(
            predictor_type=doc["predictor_type"],
            loss=doc["loss"],
            weights=np.asarray(doc["weights"], dtype=np.float64),
            bias=np.asarray(doc["bias"], dtype=np.float64),
            feature_mean=np.asarray(doc["feature_mean"], dtype=np.float64),
            feature_scale=np.asarray(doc["feature_scale"], dtype=np.float64),
            label_mean=float(doc["label_mean"]),
            label_scale=float(doc["label_scale"]),
            threshold=float(doc["threshold"]),
        )

    def save(self, model_dir: Path) -> Path:
        path = model_dir / MODEL_FILE
        path.write_text(json.dumps(self.to_json()))
        return path

    @classmethod
    def load(cls, model_dir: Path) -> LinearModel:
        path = model_dir / MODEL_FILE
        if not path.is_file():
            if (model_dir / "model_algo-1").exists():
                raise ModelFormatError(
                    "model_algo-1 is an MXNet-format model from SageMaker's linear-learner "
                    "container; Cove serves linear-learner models trained by Cove "
                    f"(model.tar.gz with {MODEL_FILE}). Retrain the model with Cove"
                )
            found = sorted(p.name for p in model_dir.iterdir()) if model_dir.is_dir() else []
            raise ModelFormatError(
                f"no {MODEL_FILE} in the model archive (found: {', '.join(found) or 'nothing'})"
            )
        try:
            return cls.from_json(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelFormatError(f"{MODEL_FILE} is not a valid model: {exc}") from exc
