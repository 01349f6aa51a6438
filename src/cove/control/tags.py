"""AddTags / ListTags / DeleteTags for any SageMaker resource stored with an ARN, and the
index of every resource's tags that authorization reads (aws:ResourceTag/<key>).

Tags live in the resource document under "Tags" (a list of {"Key", "Value"}), which is
where the Create* handlers put the request's Tags.
"""

from __future__ import annotations

import threading

from cove.errors import validation_error
from cove.storage.resources import Resource, ResourceStore

MAX_TAGS = 50
KNOWN_MAX = 10_000  # resources whose tags are kept; forgotten all at once beyond

# A resource's tags as (key, value) pairs sorted by key: hashable, so callers can cache
# what they derive from them.
Tags = tuple[tuple[str, str], ...]


def merge_tags(current: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    """`new` overrides tags of the same key, as AddTags does."""
    merged = {t["Key"]: t["Value"] for t in current}
    merged.update({t["Key"]: t["Value"] for t in new})
    if len(merged) > MAX_TAGS:
        raise validation_error(f"A resource can have at most {MAX_TAGS} tags.")
    return [{"Key": k, "Value": v} for k, v in merged.items()]


def tagged_resource(store: ResourceStore, arn: str) -> Resource:
    res = store.get_by_arn(arn)
    if res is None:
        raise validation_error(f'Could not find resource "{arn}".')
    return res


class TagIndex:
    """Each resource's tags by ARN, read from the store once and forgotten when the store
    reports the resource changed, so that a request's authorization (InvokeEndpoint's on
    its hot path too) reads them without a query. A resource that does not exist has no
    tags."""

    def __init__(self, store: ResourceStore) -> None:
        self.store = store
        self._known: dict[str, Tags] = {}
        self._lock = threading.Lock()
        self._changes = 0  # a read that raced a change is not kept
        store.subscribe(self._forget)

    def tags_of(self, arn: str) -> Tags:
        known = self._known.get(arn)
        if known is not None:
            return known
        with self._lock:
            seen = self._changes
        res = self.store.get_by_arn(arn)
        listed = (res.doc.get("Tags") or []) if res is not None else []
        tags = tuple(sorted((t["Key"], t["Value"]) for t in listed))
        with self._lock:
            if self._changes == seen:
                if len(self._known) >= KNOWN_MAX:
                    self._known.clear()
                self._known[arn] = tags
        return tags

    def _forget(self, arn: str) -> None:
        with self._lock:
            self._changes += 1
            self._known.pop(arn, None)
