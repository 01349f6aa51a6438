"""SGD (with momentum), Adam and RMSProp over a batch of parallel models, each with its
own learning rate (`rate` has one entry per model)."""

from __future__ import annotations

import numpy as np

from cove.jobs.training.hyperparameters import AUTO


class _Optimizer:
    def __init__(self, hp: dict, shapes: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
        self.hp = hp
        self.state = [np.zeros(shapes[0]), np.zeros(shapes[1])]
        self.state2 = [np.zeros(shapes[0]), np.zeros(shapes[1])]
        self.t = 0

    def step(
        self,
        w: np.ndarray,
        b: np.ndarray,
        gw: np.ndarray,
        gb: np.ndarray,
        rate: np.ndarray,
        bias_lr_mult: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        self.t += 1
        dw = self._direction(0, gw)
        db = self._direction(1, gb)
        return (
            w - rate[:, None, None] * dw,
            b - (rate * bias_lr_mult)[:, None] * db,
        )

    def _direction(self, i: int, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SGD(_Optimizer):
    def _direction(self, i: int, grad: np.ndarray) -> np.ndarray:
        momentum = 0.0 if self.hp["momentum"] == AUTO else self.hp["momentum"]
        self.state[i] = momentum * self.state[i] + grad
        return self.state[i]


class Adam(_Optimizer):
    def _direction(self, i: int, grad: np.ndarray) -> np.ndarray:
        beta1 = 0.9 if self.hp["beta_1"] == AUTO else self.hp["beta_1"]
        beta2 = 0.999 if self.hp["beta_2"] == AUTO else self.hp["beta_2"]
        self.state[i] = beta1 * self.state[i] + (1 - beta1) * grad
        self.state2[i] = beta2 * self.state2[i] + (1 - beta2) * grad**2
        m_hat = self.state[i] / (1 - beta1**self.t)
        v_hat = self.state2[i] / (1 - beta2**self.t)
        return m_hat / (np.sqrt(v_hat) + 1e-8)


class RMSProp(_Optimizer):
    def _direction(self, i: int, grad: np.ndarray) -> np.ndarray:
        decay = 0.9 if self.hp["beta_2"] == AUTO else self.hp["beta_2"]
        self.state2[i] = decay * self.state2[i] + (1 - decay) * grad**2
        return grad / (np.sqrt(self.state2[i]) + 1e-8)


def make_optimizer(
    name: str, hp: dict, shapes: tuple[tuple[int, ...], tuple[int, ...]]
) -> _Optimizer:
    return {"sgd": SGD, "adam": Adam, "rmsprop": RMSProp}[name](hp, shapes)
