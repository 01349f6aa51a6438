"""The embedded object store on its own: listing order and pages, overwrite, crash leftovers."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove.storage.db import open_engine
from cove.storage.s3.errors import StoreError, StoreFailure
from cove.storage.s3.objects import ObjectMeta, ObjectStore


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    engine = open_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    s = ObjectStore(tmp_path / "objects", engine)
    s.create_bucket("b", "us-east-1", "000000000000")
    return s


def put(store: ObjectStore, key: str, data: bytes = b"x") -> None:
    with store.stage() as blob:
        blob.write(data)
        store.put_object("b", key, blob, ObjectMeta())


def walk(store: ObjectStore, prefix: str = "", delimiter: str = "", max_keys: int = 2):
    after, seen = "", []
    while True:
        page = store.list_objects("b", prefix, delimiter, after, max_keys)
        seen += [o.key for o in page.contents] + page.prefixes
        if not page.truncated:
            return seen
        after = page.last


def test_listing_order_prefix_delimiter_and_pages(store: ObjectStore) -> None:
    keys = ["a/1", "a/2", "a/b/3", "b", "c/1", "c/2", "é", "Z", "a+b", "a b"]
    for key in keys:
        put(store, key)
    # S3 order is UTF-8 byte order: upper case before lower case, é after z
    assert walk(store, max_keys=3) == sorted(keys, key=lambda k: k.encode())
    assert walk(store, delimiter="/") == ["Z", "a b", "a+b", "a/", "b", "c/", "é"]
    assert walk(store, prefix="a/", delimiter="/") == ["a/1", "a/2", "a/b/"]
    assert walk(store, prefix="c") == ["c/1", "c/2"]
    page = store.list_objects("b", delimiter="/", max_keys=4)
    assert page.truncated and page.last == "a/"
    rest = store.list_objects("b", delimiter="/", after=page.last)
    assert [o.key for o in rest.contents] + rest.prefixes == ["b", "é", "c/"]


def test_overwrite_replaces_blob_and_leaves_no_garbage(store: ObjectStore) -> None:
    put(store, "k", b"one")
    put(store, "k", b"two")
    assert store.read_object("b", "k")[1] == b"two"
    blobs = [p for p in (store.root / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    assert store.read_object("b", "k", 1, 1)[1] == b"w"


def test_crash_leftovers_are_removed_on_start(store: ObjectStore, tmp_path: Path) -> None:
    put(store, "k", b"kept")
    orphan = store.root / "blobs" / "ab" / "ab00"
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"half")
    (store.root / "tmp" / "partial").write_bytes(b"half")
    reopened = ObjectStore(store.root, store.engine)
    assert not orphan.exists() and not (store.root / "tmp" / "partial").exists()
    assert reopened.read_object("b", "k")[1] == b"kept"


def test_uncommitted_blob_is_discarded(store: ObjectStore) -> None:
    with pytest.raises(RuntimeError), store.stage() as blob:
        blob.write(b"data")
        raise RuntimeError("client went away")
    assert list((store.root / "tmp").iterdir()) == []
    with pytest.raises(StoreError) as err:
        store.head_object("b", "never")
    assert err.value.failure is StoreFailure.NO_SUCH_KEY


def test_bucket_rules(store: ObjectStore) -> None:
    with pytest.raises(StoreError) as err:
        store.create_bucket("b", "us-east-1", "000000000000")
    assert err.value.failure is StoreFailure.BUCKET_ALREADY_OWNED
    with pytest.raises(StoreError) as err:
        store.create_bucket("b", "us-east-1", "111111111111")
    assert err.value.failure is StoreFailure.BUCKET_TAKEN
    put(store, "k")
    with pytest.raises(StoreError) as err:
        store.delete_bucket("b")
    assert err.value.failure is StoreFailure.BUCKET_NOT_EMPTY
    store.delete_object("b", "k")
    store.delete_bucket("b")
    with pytest.raises(StoreError) as err:
        store.list_objects("b")
    assert err.value.failure is StoreFailure.NO_SUCH_BUCKET
