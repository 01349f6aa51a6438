"""What S3 checks of a bucket policy before it keeps one, and its MalformedPolicy (400)
wording, which is S3's own rather than IAM's MalformedPolicyDocument:

- the document must start with "{" and be JSON;
- it needs a non-empty Statement, each with Effect Allow or Deny and a Principal;
- principals must be valid (IAM's grammar decides which are), and a user or role of the
  bucket owner's account that a policy names must exist: AWS keeps such a principal as its
  unique id, so it cannot keep one that has none (`cove.iam.principals`, which says what
  is kept as written);
- every Resource must be this bucket or objects in it (not "*", not another bucket);
- actions must be S3's, and each named one must apply to a resource of its statement
  (an object action such as s3:GetObject needs an arn:aws:s3:::bucket/... resource, a
  bucket action such as s3:ListBucket arn:aws:s3:::bucket).

Anything else IAM's grammar refuses is refused with IAM's message under S3's code. The
texts and where they were seen are in tests/e2e/test_s3_bucket_policies.py."""

from __future__ import annotations

import json
from typing import Any

from cove.errors import AwsError
from cove.iam.documents import (
    NO_PRINCIPAL,
    NO_VENDOR,
    ONE_COLON,
    VENDOR_WILDCARD,
    Policy,
    PolicyKind,
    Statement,
    parse_policy,
)
from cove.iam.principals import Identities, unknown_principal

FIRST_BYTE = "Policies must be valid JSON and the first byte must be '{'"
INVALID_JSON = "This policy contains invalid Json"
MISSING_STATEMENT = "Missing required field Statement"
EMPTY_STATEMENT = "Could not parse the policy: Statement is empty!"
INVALID_PRINCIPAL = "Invalid principal in policy"
INVALID_RESOURCE = "Policy has invalid resource"
INVALID_ACTION = "Policy has invalid action"
ACTION_WITHOUT_RESOURCE = "Action does not apply to any resource(s) in statement"

# IAM's grammar errors, as S3 words them
_RENAMED = {NO_VENDOR: INVALID_ACTION, ONE_COLON: INVALID_ACTION, VENDOR_WILDCARD: INVALID_ACTION}
# multipart and replication actions on objects that do not say "Object"
_OBJECT_ACTIONS = frozenset({
    "s3:abortmultipartupload", "s3:listmultipartuploadparts", "s3:replicatedelete",
    "s3:replicatetags", "s3:bypassgovernanceretention",
})  # fmt: skip


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicy", message, 400)


def invalid_effect(effect: Any) -> str:
    return f"Invalid effect: {effect}"


def check_bucket_policy(document: str, bucket: str, identities: Identities | None = None) -> Policy:
    """The policy `document` for `bucket`, parsed; MalformedPolicy if S3 would refuse it.
    Without `identities` the principals it names are not looked up."""
    if not document.startswith("{"):
        raise malformed(FIRST_BYTE)
    try:
        raw = json.loads(document)
    except ValueError:
        raise malformed(INVALID_JSON) from None
    if "Statement" not in raw:
        raise malformed(MISSING_STATEMENT)
    listed = raw["Statement"] if isinstance(raw["Statement"], list) else [raw["Statement"]]
    if not listed:
        raise malformed(EMPTY_STATEMENT)
    for statement in listed:
        effect = statement.get("Effect") if isinstance(statement, dict) else None
        if effect is not None and effect not in ("Allow", "Deny"):
            raise malformed(invalid_effect(effect))
    try:
        policy = parse_policy(document, PolicyKind.RESOURCE)
    except AwsError as err:
        raise malformed(_s3_wording(err.message)) from None
    for parsed in policy.statements:
        _check_statement(parsed, bucket)
        if identities is not None and unknown_principal(parsed, identities) is not None:
            raise malformed(INVALID_PRINCIPAL)  # S3 does not name it, as IAM does
    return policy


def _s3_wording(message: str) -> str:
    if message == NO_PRINCIPAL:
        return NO_PRINCIPAL  # the same words in both
    if message.startswith(INVALID_PRINCIPAL):
        return INVALID_PRINCIPAL  # IAM names the value, S3 does not
    if message.endswith('must be in ARN format or "*".'):
        return INVALID_RESOURCE
    return _RENAMED.get(message, message)


def _check_statement(statement: Statement, bucket: str) -> None:
    resources = statement.resources or statement.not_resources or ()
    arn = f"arn:aws:s3:::{bucket}"
    for resource in resources:
        if resource != arn and not resource.startswith(arn + "/"):
            raise malformed(INVALID_RESOURCE)  # "*", another bucket, not S3
    for action in statement.actions or statement.not_actions or ():
        if action != "*" and not action.lower().startswith("s3:"):
            raise malformed(INVALID_ACTION)
    if statement.actions is None or statement.resources is None:
        return  # NotAction / NotResource name what they exclude
    on_objects = any("/" in r for r in statement.resources)
    on_bucket = arn in statement.resources
    for action in statement.actions:
        level = _level(action)
        if (level == "object" and not on_objects) or (level == "bucket" and not on_bucket):
            raise malformed(ACTION_WITHOUT_RESOURCE)


def _level(action: str) -> str | None:
    """Whether a (wildcard-free) S3 action acts on objects or on the bucket; None where
    Cove cannot tell, or the action is a pattern that may name either."""
    name = action.lower()
    if "*" in name or "?" in name:
        return None
    if "bucket" in name:  # s3:ListBucket, s3:GetBucketPolicy, s3:PutBucketObjectLock...
        return "bucket"
    if "object" in name or name in _OBJECT_ACTIONS:
        return "object"
    return None
