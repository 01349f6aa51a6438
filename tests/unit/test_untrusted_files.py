"""What a sandboxed job leaves behind is read without following its links: a job that
swaps model/ or output/failure for a link to the data dir gets nothing of it out."""

from __future__ import annotations

import tarfile
from pathlib import Path

from cove.jobs.training.channels import package_model
from cove.jobs.training.environment import read_failure, read_metrics


def test_package_model_takes_regular_files_only(tmp_path: Path) -> None:
    secret = tmp_path / "data" / "credentials.json"
    secret.parent.mkdir()
    secret.write_text("the admin secret")
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"w")
    (model / "sub" / "more.txt").write_text("m")
    (model / "stolen").symlink_to(secret)
    (model / "stolen-dir").symlink_to(secret.parent, target_is_directory=True)
    with tarfile.open(package_model(model, tmp_path / "model.tar.gz")) as tar:
        names = sorted(tar.getnames())
        assert names == ["sub/more.txt", "weights.bin"]
        assert all(m.isfile() for m in tar.getmembers())


def test_outputs_behind_links_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "credentials.json"
    secret.write_text('{"train:loss": 1}')
    (tmp_path / "job" / "output").mkdir(parents=True)
    (tmp_path / "job" / "output" / "failure").symlink_to(secret)
    (tmp_path / "job" / "output" / "metrics.json").symlink_to(secret)
    assert read_failure(tmp_path / "job") is None
    assert read_metrics(tmp_path / "job") == {}
    (tmp_path / "job" / "output" / "failure").unlink()
    (tmp_path / "job" / "output" / "failure").write_text("AlgorithmError: " + "x" * (2 << 20))
    assert len(read_failure(tmp_path / "job") or "") == 1 << 20  # capped
