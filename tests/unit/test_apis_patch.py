"""The patch engine and UpdateStage's patches, directly (the e2e tests in
tests/e2e/test_apigateway_updates.py pin the same texts through the wire, with their
sources)."""

from __future__ import annotations

import pytest

from cove.apis import stage_patch
from cove.apis.failures import ApiFailure, FailureKind
from cove.apis.method_settings import LoggingLevel, MethodSetting, effective
from cove.apis.model import Integration, IntegrationType, Stage
from cove.apis.patch import Patch, PatchOp, parse
from cove.apis.updates import INTEGRATION, RESOURCE


def patches(*ops: tuple[str, str, str | None]) -> list[Patch]:
    return parse([{"op": op, "path": path, "value": value} for op, path, value in ops])


def refused(call, *args) -> tuple[FailureKind, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiFailure) as info:
        call(*args)
    return info.value.kind, info.value.message


def test_map_paths_take_one_escaped_key() -> None:
    before = Integration(IntegrationType.MOCK, request_templates={"application/json": "{}"})
    after = INTEGRATION.apply(before, patches(
        ("add", "/requestTemplates/text~1plain", "t"),
        ("remove", "/requestTemplates/application~1json", None),
    ))  # fmt: skip
    assert after.request_templates == {"text/plain": "t"}
    # an unescaped "/" makes another path, which no rule has
    assert refused(INTEGRATION.apply, before, patches(
        ("add", "/requestTemplates/text/plain", "t"))) == (
        FailureKind.BAD_REQUEST, "Invalid patch path /requestTemplates/text/plain")  # fmt: skip
    assert refused(INTEGRATION.apply, before, patches(
        ("remove", "/requestTemplates/text~1xml", None)))[0] is FailureKind.NOT_FOUND  # fmt: skip


def test_the_two_wordings() -> None:
    assert refused(INTEGRATION.apply, Integration(IntegrationType.MOCK),
                   patches(("add", "/timeoutInMillis", "100")))[1] == (
        "Invalid patch operation specified. Must be one of: [replace]")  # fmt: skip
    assert refused(RESOURCE.apply, None, patches(("add", "/pathPart", "x")))[1] == (
        "Invalid patch path  '/pathPart' specified for op 'add'. Please choose supported "
        "operations")  # fmt: skip
    with pytest.raises(ApiFailure, match="Invalid patch path null"):
        parse([{"op": "replace"}])


def stage(**settings: MethodSetting) -> Stage:
    return Stage("api", "test", "d1", "", 0.0, 0.0, method_settings=dict(settings))


def test_method_settings_start_from_the_wildcard_and_need_the_role() -> None:
    ops = patches(("replace", "/*/*/caching/enabled", "true"),
                  ("replace", "/~1pets/GET/logging/loglevel", "info"))  # fmt: skip
    after = stage_patch.apply(stage(), ops, lambda _: True, logging_allowed=True)
    pets = after.method_settings["~1pets/GET"]
    assert pets.caching_enabled and pets.logging_level is LoggingLevel.INFO
    assert after.method_settings["*/*"].logging_level is None
    assert effective(after.method_settings, "/pets", "GET") is pets
    assert effective(after.method_settings, "/cats", "GET") is after.method_settings["*/*"]
    no_role = patches(("replace", "/*/*/logging/loglevel", "ERROR"))
    assert refused(stage_patch.apply, stage(), no_role, lambda _: True, False)[1] == (
        stage_patch.NO_ROLE)  # fmt: skip
    off = patches(("replace", "/*/*/logging/loglevel", "OFF"))
    assert stage_patch.apply(stage(), off, lambda _: True, False).method_settings[
        "*/*"].logging_level is LoggingLevel.OFF  # fmt: skip


def test_stage_paths_and_ops() -> None:
    assert refused(stage_patch.apply, stage(), patches(("add", "/description", "x")),
                   lambda _: True, True)[1] == "Invalid add operation with path: /description"
    assert refused(stage_patch.apply, stage(), patches(("remove", "/*/*", None)),
                   lambda _: True, True)[1] == (
        "Cannot remove method setting */* because there is no method setting for this "
        "method ")  # fmt: skip
    kept = stage_patch.apply(stage(**{"*/*": MethodSetting()}),
                             [Patch(PatchOp.REMOVE, "/*/*")], lambda _: True, True)
    assert kept.method_settings == {}
    message = refused(stage_patch.apply, stage(), patches(("replace", "/bogus", "x")),
                      lambda _: True, True)[1]
    assert message.startswith("Invalid method setting path: /bogus. Must be one of: [")
