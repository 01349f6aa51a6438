"""IAM's Marker when the list changes between two pages: the next page starts after the
last item handed out, wherever it is now, or where it was once it is gone. (Every paged
operation with unchanged lists: tests/e2e/test_iam_paging.py.)"""

from __future__ import annotations

import pytest

from cove.errors import AwsError
from cove.services.iam.paging import page


def pages_after_change(before: list[str], after: list[str]) -> list[str]:
    first, paging = page(before, {"MaxItems": 2}, identity=str)
    assert first == before[:2] and paging["IsTruncated"]
    rest, _ = page(after, {"MaxItems": 100, "Marker": paging["Marker"]}, identity=str)
    return rest


def test_the_next_page_follows_the_last_item_handed_out() -> None:
    items = ["v5", "v4", "v3", "v2", "v1"]  # newest first: not the items' sort order
    assert pages_after_change(items, items) == ["v3", "v2", "v1"]
    assert pages_after_change(items, ["v6", *items]) == ["v3", "v2", "v1"]  # one before it
    assert pages_after_change(items, ["v4", "v3", "v2", "v1"]) == ["v3", "v2", "v1"]
    assert pages_after_change(items, ["v5", "v3", "v2", "v1"]) == ["v3", "v2", "v1"]  # it went


def test_a_marker_of_nothing_handed_out_is_refused() -> None:
    for marker in ("not base64!", "W10=", "WzAsICJ4Il0="):  # junk, [], [0, "x"]
        with pytest.raises(AwsError) as info:
            page(["a"], {"Marker": marker}, identity=str)
        assert (info.value.code, info.value.message) == ("ValidationError", "Invalid Marker.")
