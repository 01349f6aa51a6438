"""A counter of changes to the account's identities and policies: the policy engine's
decision cache starts over whenever it moves (a policy, key, membership or identity was
created, changed or deleted)."""

from __future__ import annotations

import itertools


class Changes:
    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.generation = 0

    def bump(self) -> None:
        self.generation = next(self._counter)
