"""The artifact interface over the embedded object store (s3://) and local files (file://)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove.config import Settings
from cove.storage.artifacts import ArtifactNotFound, ArtifactStore, InvalidArtifactUri
from cove.storage.db import open_engine
from cove.storage.s3.objects import ObjectStore


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    engine = open_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    objects = ObjectStore(tmp_path / "objects", engine)
    objects.create_bucket("models", "us-east-1", "000000000000")
    settings = Settings(data_dir=tmp_path / "data", s3_endpoint_url=None, local_roots=(tmp_path,))
    return ArtifactStore(settings, objects)


def test_s3_round_trip(artifacts: ArtifactStore, tmp_path: Path) -> None:
    artifacts.write_bytes("s3://models/a/model.tar.gz", b"weights")
    assert artifacts.read_bytes("s3://models/a/model.tar.gz") == b"weights"
    assert artifacts.exists("s3://models/a/model.tar.gz")
    assert not artifacts.exists("s3://models/a/other")
    src = tmp_path / "src.bin"
    src.write_bytes(b"\x00" * 100_000)
    artifacts.upload(src, "s3://models/a/b/data.bin")
    out = artifacts.download("s3://models/a/b/data.bin", tmp_path / "out" / "data.bin")
    assert out.read_bytes() == src.read_bytes()
    assert artifacts.list("s3://models/a/") == [
        "s3://models/a/b/data.bin",
        "s3://models/a/model.tar.gz",
    ]
    got = artifacts.download_prefix("s3://models/a", tmp_path / "tree")
    assert sorted(p.relative_to(tmp_path / "tree").as_posix() for p in got) == [
        "b/data.bin",
        "model.tar.gz",
    ]
    artifacts.delete("s3://models/a/model.tar.gz")
    assert not artifacts.exists("s3://models/a/model.tar.gz")


def test_s3_missing_objects_and_buckets(artifacts: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFound, match=r"s3://models/nope does not exist"):
        artifacts.read_bytes("s3://models/nope")
    with pytest.raises(ArtifactNotFound, match="bucket missing does not exist"):
        artifacts.read_bytes("s3://missing/k")
    with pytest.raises(ArtifactNotFound, match="bucket missing does not exist"):
        artifacts.write_bytes("s3://missing/k", b"x")
    with pytest.raises(ArtifactNotFound):
        artifacts.download("s3://models/nope", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_file_uris(artifacts: ArtifactStore, tmp_path: Path) -> None:
    uri = (tmp_path / "dir" / "f.txt").as_uri()
    artifacts.write_bytes(uri, b"local")
    assert artifacts.read_bytes(uri) == b"local"
    assert artifacts.exists(uri)
    assert artifacts.list((tmp_path / "dir").as_uri()) == [uri]
    # file:// and s3:// mix through the same interface
    artifacts.upload(tmp_path / "dir" / "f.txt", "s3://models/copied.txt")
    assert artifacts.read_bytes("s3://models/copied.txt") == b"local"
    with pytest.raises(ArtifactNotFound, match="does not exist"):
        artifacts.read_bytes((tmp_path / "none").as_uri())


def test_file_uris_reach_only_the_local_roots_and_never_the_data_dir(
    artifacts: ArtifactStore, tmp_path: Path
) -> None:
    # Whoever calls CreateModel or CreateTrainingJob names these paths and the server
    # opens them as its own user: outside COVE_LOCAL_ROOTS they are refused.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "credentials.json").write_text("{}")
    (tmp_path / "link").symlink_to(tmp_path / "data" / "credentials.json")
    for uri in ("file:///etc/passwd", (tmp_path / "data" / "credentials.json").as_uri(),
                (tmp_path / "link").as_uri()):
        with pytest.raises(InvalidArtifactUri, match="COVE_LOCAL_ROOTS"):
            artifacts.read_bytes(uri)
    with pytest.raises(InvalidArtifactUri, match="COVE_LOCAL_ROOTS"):
        artifacts.write_bytes("file:///etc/cron.d/cove", b"* * * * * root true")
    assert not Path("/etc/cron.d/cove").exists()


def test_invalid_uris(artifacts: ArtifactStore) -> None:
    for uri in ("http://example.com/x", "s3:///key", "file://relative/path", "s3://models/"):
        with pytest.raises(InvalidArtifactUri):
            artifacts.read_bytes(uri)
