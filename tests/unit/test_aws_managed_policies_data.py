"""The AWS managed policies Cove ships as data (`cove/data/aws_managed_policies.json`): one
entry per policy with AWS's own document, version and provenance (its page in AWS's
managed policy reference). These checks keep the file's
shape from rotting; they do not (and cannot, offline) re-check the documents against AWS."""

from __future__ import annotations

import datetime
import json
import re
from importlib import resources
from urllib.parse import urlparse

import pytest

from cove.iam.documents import PolicyKind, parse_policy

KEYS = {
    "PolicyName", "Path", "Arn", "Description", "DefaultVersionId", "Document", "Source",
    "SourceDate",
}

# The policies Cove must know (issue #10 names them), with the path AWS files them under.
REQUIRED = {
    "AmazonSageMakerFullAccess": "/",
    "AdministratorAccess": "/",
    "AmazonS3FullAccess": "/",
    "AmazonS3ReadOnlyAccess": "/",
    "AWSLambdaBasicExecutionRole": "/service-role/",
    "AWSLambdaVPCAccessExecutionRole": "/service-role/",
    "AmazonAPIGatewayInvokeFullAccess": "/",
    "AWSLambda_FullAccess": "/",
}

ACTION = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$")


def _policies() -> list[dict]:
    text = resources.files("cove").joinpath("data/aws_managed_policies.json").read_text()
    return json.loads(text)


POLICIES = _policies()


def _ids(policies: list[dict]) -> list[str]:
    return [p.get("PolicyName", "?") for p in policies]


def test_is_a_non_empty_list_of_uniquely_named_policies() -> None:
    assert isinstance(POLICIES, list) and POLICIES
    names = [p["PolicyName"] for p in POLICIES]
    assert len(names) == len(set(names))


def test_required_policies_are_present_under_their_paths() -> None:
    by_name = {p["PolicyName"]: p for p in POLICIES}
    for name, path in REQUIRED.items():
        assert name in by_name, name
        assert by_name[name]["Path"] == path, name


@pytest.mark.parametrize("policy", POLICIES, ids=_ids(POLICIES))
def test_entry_has_exactly_the_documented_keys(policy: dict) -> None:
    assert set(policy) == KEYS
    for key in KEYS - {"Document"}:
        assert isinstance(policy[key], str) and policy[key].strip(), key


@pytest.mark.parametrize("policy", POLICIES, ids=_ids(POLICIES))
def test_arn_agrees_with_path_and_name(policy: dict) -> None:
    path = policy["Path"]
    assert path.startswith("/") and path.endswith("/")
    assert policy["Arn"] == f"arn:aws:iam::aws:policy{path}{policy['PolicyName']}"


@pytest.mark.parametrize("policy", POLICIES, ids=_ids(POLICIES))
def test_version_id_and_source_date(policy: dict) -> None:
    assert re.fullmatch(r"v[1-9][0-9]*", policy["DefaultVersionId"])
    datetime.date.fromisoformat(policy["SourceDate"])


@pytest.mark.parametrize("policy", POLICIES, ids=_ids(POLICIES))
def test_source_is_an_https_url(policy: dict) -> None:
    url = urlparse(policy["Source"])
    # AWS's own documentation, the one source the shipped documents come from: its managed
    # policy reference (an edition in any language: the JSON is the same), or a service
    # guide's page of its managed policies (AmazonSageMakerFullAccess: the SageMaker
    # Developer Guide's, whose change table dates each version)
    assert url.scheme == "https" and url.netloc == "docs.aws.amazon.com"
    assert "/aws-managed-policy/latest/reference/" in url.path or url.path.endswith(
        "/latest/dg/security-iam-awsmanpol.html"
    )


@pytest.mark.parametrize("policy", POLICIES, ids=_ids(POLICIES))
def test_document_is_a_well_formed_policy(policy: dict) -> None:
    doc = policy["Document"]
    assert isinstance(doc, dict) and set(doc) == {"Version", "Statement"}
    assert doc["Version"] == "2012-10-17"
    statements = doc["Statement"]
    assert isinstance(statements, list) and statements
    sids = [s["Sid"] for s in statements if "Sid" in s]
    assert len(sids) == len(set(sids)), "Sids repeat"
    for statement in statements:
        assert statement["Effect"] in ("Allow", "Deny")
        assert ("Action" in statement) != ("NotAction" in statement)
        assert ("Resource" in statement) != ("NotResource" in statement)
        actions = statement.get("Action", statement.get("NotAction"))
        actions = [actions] if isinstance(actions, str) else actions
        assert actions and all(ACTION.match(a) for a in actions), actions
        resources_ = statement.get("Resource", statement.get("NotResource"))
        resources_ = [resources_] if isinstance(resources_, str) else resources_
        assert resources_ and all(isinstance(r, str) and r for r in resources_)
        assert isinstance(statement.get("Condition", {}), dict)


@pytest.mark.parametrize("policy", POLICIES, ids=_ids(POLICIES))
def test_document_is_taken_by_the_policy_engine(policy: dict) -> None:
    # the grammar check IAM applies to managed policies (Version 2012-10-17 required);
    # a shipped document the engine refused would fail every identity it is attached to
    parse_policy(policy["Document"], PolicyKind.IDENTITY, require_version=True)
