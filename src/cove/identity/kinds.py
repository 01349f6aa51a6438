"""The three kinds of IAM identity and what differs between them: id prefix, the words
IAM's messages use, and their quotas (IAM User Guide, "IAM and AWS STS quotas": 10
managed policies attached to each; inline policies in all of 2,048 characters for a user,
5,120 for a group, 10,240 for a role)."""

from __future__ import annotations

from enum import Enum


class EntityKind(Enum):
    USER = "user"
    GROUP = "group"
    ROLE = "role"

    @property
    def id_prefix(self) -> str:
        return {"user": "AIDA", "group": "AGPA", "role": "AROA"}[self.value]

    @property
    def title(self) -> str:
        """As the start of IAM's messages: "User with name bob already exists."."""
        return self.value.capitalize()

    @property
    def attached_quota(self) -> str:
        """The quota's name in "Cannot exceed quota for PoliciesPerUser: 10"."""
        return f"PoliciesPer{self.title}"

    @property
    def inline_size_limit(self) -> int:
        return {"user": 2048, "group": 5120, "role": 10240}[self.value]


MAX_ATTACHED_POLICIES = 10
