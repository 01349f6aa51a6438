"""The function store: versions, aliases, policies and packages on a real database and
data dir. States follow Lambda DG, "Lambda function states"
(https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html): Pending after
create, Active once settled; LastUpdateStatus first Successful when creation completes,
InProgress during an update; updates and publishing are refused meanwhile."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from cove.functions.failures import Failure, FunctionError
from cove.functions.model import FunctionConfig, State, UpdateStatus
from cove.functions.names import Arns, FunctionRef, parse_reference
from cove.functions.packages import Packages
from cove.functions.permissions import Grant, document, statement
from cove.functions.store import FunctionStore
from cove.storage.db import open_engine

ARNS = Arns("us-east-1", "123456789012")
CONFIG = FunctionConfig("python3.11", "app.handler", "arn:aws:iam::123456789012:role/r")


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> FunctionStore:
    engine = open_engine(f"sqlite:///{tmp_path / 'cove.db'}")
    return FunctionStore(engine, Packages(tmp_path / "functions"), ARNS)


def created(store: FunctionStore, name: str = "f", code: str = "x = 1") -> None:
    store.create(name, CONFIG, store.packages.add(zipped({"app.py": code})))
    store.settle(name)


def failure(info: pytest.ExceptionInfo[FunctionError]) -> Failure:
    return info.value.failure


def test_a_new_function_is_pending_until_settled_then_active_and_successful(store) -> None:
    first = store.create("f", CONFIG, store.packages.add(zipped({"app.py": "x = 1"})))
    assert (first.state, first.update_status) == (State.PENDING, None)
    with pytest.raises(FunctionError) as info:
        store.update_config("f", {"timeout": 9})
    assert failure(info) is Failure.NOT_READY
    store.settle("f")
    latest = store.version("f", "$LATEST")
    assert (latest.state, latest.update_status) == (State.ACTIVE, UpdateStatus.SUCCESSFUL)
    assert store.unsettled() == []


def test_an_update_is_in_progress_until_settled_and_refuses_another(store) -> None:
    created(store)
    updated = store.update_config("f", {"timeout": 9, "environment": {"A": "1"}})
    assert updated.update_status is UpdateStatus.IN_PROGRESS
    assert updated.config.timeout == 9 and updated.config.environment == {"A": "1"}
    assert store.unsettled() == ["f"]
    with pytest.raises(FunctionError) as info:
        store.update_code("f", store.packages.add(zipped({"app.py": "x = 2"})))
    assert failure(info) is Failure.UPDATE_IN_PROGRESS
    with pytest.raises(FunctionError) as info:
        store.publish("f")
    assert failure(info) is Failure.UPDATE_IN_PROGRESS
    store.settle("f")
    assert store.version("f", "$LATEST").update_status is UpdateStatus.SUCCESSFUL


def test_names_are_unique_and_unknown_ones_name_their_arn(store) -> None:
    created(store)
    with pytest.raises(FunctionError) as info:
        store.create("f", CONFIG, store.packages.add(zipped({"a.py": ""})))
    assert failure(info) is Failure.FUNCTION_EXISTS
    with pytest.raises(FunctionError) as info:
        store.version("nope", "$LATEST")
    assert info.value.details["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:nope"
    with pytest.raises(FunctionError) as info:
        store.resolve(FunctionRef("f", "7"))
    assert info.value.details["arn"].endswith(":function:f:7")


def test_publish_numbers_versions_and_skips_an_unchanged_one(store) -> None:
    created(store)
    one = store.publish("f", description="first")
    assert (one.version, one.config.description) == ("1", "first")
    assert store.publish("f").version == "1"  # nothing changed since version 1
    store.update_code("f", store.packages.add(zipped({"app.py": "x = 2"})))
    store.settle("f")
    two = store.publish("f")
    assert two.version == "2" and two.code != one.code
    assert [x.version for x in store.versions("f")] == ["$LATEST", "1", "2"]
    store.delete("f", "1")
    store.update_config("f", {"memory_size": 256})
    store.settle("f")
    assert store.publish("f").version == "3"  # numbers are never reused


def test_aliases_resolve_to_their_version_and_pin_it(store) -> None:
    created(store)
    store.publish("f")
    store.create_alias("f", "live", "1", "prod")
    version, alias = store.resolve(parse_reference("f:live"))
    assert version.version == "1" and alias is not None and alias.description == "prod"
    with pytest.raises(FunctionError) as info:
        store.create_alias("f", "live", "1")
    assert failure(info) is Failure.ALIAS_EXISTS
    with pytest.raises(FunctionError) as info:
        store.delete("f", "1")
    assert failure(info) is Failure.VERSION_IN_USE and info.value.details["aliases"] == "live"
    with pytest.raises(FunctionError) as info:
        store.delete("f", "$LATEST")
    assert failure(info) is Failure.LATEST_NOT_DELETABLE
    moved = store.update_alias("f", "live", version="$LATEST")
    assert moved.function_version == "$LATEST" and moved.revision_id != alias.revision_id
    store.delete_alias("f", "live")
    with pytest.raises(FunctionError) as info:
        store.alias("f", "live")
    assert info.value.details["arn"].endswith(":function:f:live")


def test_references_accept_names_partial_and_full_arns() -> None:
    assert parse_reference("f") == FunctionRef("f")
    assert parse_reference("f:live") == FunctionRef("f", "live")
    assert parse_reference("123456789012:function:f", "2") == FunctionRef("f", "2")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"
    assert parse_reference(arn) == FunctionRef("f", "$LATEST")
    with pytest.raises(FunctionError):
        parse_reference("f:1", "2")


def test_each_qualifier_has_its_own_policy_in_statement_order(store) -> None:
    created(store)
    store.publish("f")
    grant = Grant("a", "lambda:InvokeFunction", "apigateway.amazonaws.com",
                  ARNS.function("f"), source_arn="arn:aws:execute-api:us-east-1:123456789012:x/*",
                  source_account="123456789012")  # fmt: skip
    before = store.version("f", "$LATEST").revision_id
    store.add_statement(FunctionRef("f"), "a", statement(grant))
    store.add_statement(FunctionRef("f"), "b", statement(Grant("b", "lambda:*", "123456789012",
                                                              ARNS.function("f"))))  # fmt: skip
    assert store.version("f", "$LATEST").revision_id != before
    with pytest.raises(FunctionError) as info:
        store.add_statement(FunctionRef("f"), "a", statement(grant))
    assert failure(info) is Failure.STATEMENT_EXISTS
    policy = json.loads(document(store.statements(FunctionRef("f"))))
    assert [x["Sid"] for x in policy["Statement"]] == ["a", "b"]
    assert policy["Statement"][0]["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": "123456789012"},
        "ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:x/*"},
    }
    assert policy["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert store.statements(FunctionRef("f", "1")) == []
    store.remove_statement(FunctionRef("f"), "a")
    with pytest.raises(FunctionError) as info:
        store.remove_statement(FunctionRef("f"), "a")
    assert failure(info) is Failure.STATEMENT_NOT_FOUND


def test_packages_unpack_once_readable_and_go_with_their_last_version(store, tmp_path) -> None:
    created(store, code="print('hi')")
    spec = store.spec(store.version("f", "$LATEST"))
    assert (spec.code_dir / "app.py").read_text() == "print('hi')"
    assert (spec.code_dir / "app.py").stat().st_mode & 0o777 == 0o644
    assert spec.function_arn == ARNS.function("f") and spec.version == "$LATEST"
    assert store.spec(store.version("f", "$LATEST")).code_dir == spec.code_dir
    (tmp_path / "functions" / "workers").mkdir()  # the runtime's, beside the packages
    store.delete("f")
    assert not spec.code_dir.exists()
    assert [p.name for p in (tmp_path / "functions").iterdir()] == ["workers"]


def test_a_package_must_unzip_and_stay_under_the_unzipped_limit(store, monkeypatch) -> None:
    with pytest.raises(FunctionError) as info:
        store.packages.add(b"not a zip")
    assert failure(info) is Failure.BAD_ZIP
    monkeypatch.setattr("cove.functions.packages.UNZIPPED_LIMIT", 10)
    with pytest.raises(FunctionError) as info:
        store.packages.add(zipped({"big.txt": "x" * 11}))
    assert failure(info) is Failure.UNZIPPED_TOO_LARGE


def test_a_zip_cannot_write_outside_its_directory(store) -> None:
    code = store.packages.add(zipped({"../../escape.py": "x", "/abs.py": "y"}))
    root = store.packages.unpacked(code.key)
    assert sorted(p.name for p in root.rglob("*.py")) == ["abs.py", "escape.py"]
    assert all(root in p.parents for p in root.rglob("*.py"))


def test_listing_pages_by_name_with_all_versions_on_request(store) -> None:
    for name in ("c", "a", "b"):
        created(store, name)
    store.publish("a")
    page, marker = store.list(None, 2)
    assert [x.name for x in page] == ["a", "b"] and marker == "b"
    page, marker = store.list(marker, 2)
    assert [x.name for x in page] == ["c"] and marker is None
    page, _ = store.list(None, 1, all_versions=True)
    assert [(x.name, x.version) for x in page] == [("a", "$LATEST"), ("a", "1")]


def test_the_store_survives_a_restart(store, tmp_path) -> None:
    created(store)
    store.update_config("f", {"environment": {"K": "V"}})
    again = FunctionStore(store.engine, Packages(tmp_path / "functions"), ARNS)
    assert again.version("f", "$LATEST").config.environment == {"K": "V"}
    assert again.unsettled() == ["f"]
