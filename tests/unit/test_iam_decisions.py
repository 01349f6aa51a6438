"""The decision cache, the request context Cove builds, and the engine's speed."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from cove.iam.context import ConditionContext
from cove.iam.decisions import DecisionCache, PolicySet
from cove.iam.documents import parse_policy
from cove.iam.evaluation import Outcome, evaluate
from cove.iam.request import Principal, PrincipalKind, Request, standard_context

ALICE = Principal.user("arn:aws:iam::123456789012:user/alice", "AIDAALICEEXAMPLE12345")
SESSION = Principal.assumed_role(
    "arn:aws:sts::123456789012:assumed-role/app/worker",
    "arn:aws:iam::123456789012:role/app",
    "AROAAPPEXAMPLE1234567",
)
READ = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
    }
)
OFFICE_HOURS = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        },
    }
)


class Loader:
    def __init__(self, *policies) -> None:
        self.policies = PolicySet(identity=policies)
        self.calls = 0

    def __call__(self, request: Request) -> PolicySet:
        self.calls += 1
        return self.policies


def request(action: str = "s3:GetObject", **context) -> Request:
    return Request(ALICE, action, "arn:aws:s3:::b/k", ConditionContext(context))


def test_a_decision_is_computed_once_per_generation() -> None:
    cache, load = DecisionCache(), Loader(READ)
    first = cache.decide(request(), load)
    assert cache.decide(request(), load) == first and first.allowed
    assert (load.calls, cache.hits, cache.misses) == (1, 1, 1)
    # actions are case-insensitive, and so is the key
    assert cache.decide(request("S3:getobject"), load) == first and load.calls == 1


def test_invalidation_forgets_every_decision() -> None:
    cache, load = DecisionCache(), Loader(READ)
    cache.decide(request(), load)
    assert cache.invalidate() == 1 and len(cache) == 0
    load.policies = PolicySet()  # the policy was detached: the new generation sees it
    assert cache.decide(request(), load).outcome is Outcome.IMPLICIT_DENY and load.calls == 2


def test_a_callers_generation_number_drives_invalidation() -> None:
    cache, load = DecisionCache(), Loader(READ)
    cache.decide(request(), load, generation=7)
    cache.decide(request(), load, generation=7)
    cache.decide(request(), load, generation=8)
    assert load.calls == 2 and cache.generation == 8


def test_the_context_is_part_of_the_key_but_not_its_volatile_keys() -> None:
    cache, load = DecisionCache(), Loader(READ)
    cache.decide(request(**{"aws:SourceIp": "192.0.2.1"}), load)
    cache.decide(request(**{"aws:SourceIp": "192.0.2.2"}), load)
    assert load.calls == 2
    cache.decide(
        request(**{"aws:SourceIp": "192.0.2.1", "aws:CurrentTime": "2024-01-01T00:00:00Z"}), load
    )
    assert load.calls == 2


def test_decisions_that_read_the_clock_are_not_kept() -> None:
    cache, load = DecisionCache(), Loader(OFFICE_HOURS)
    now = {"aws:CurrentTime": "2024-01-01T00:00:00Z"}
    assert cache.decide(request(**now), load).allowed
    assert cache.decide(request(**now), load).allowed
    assert load.calls == 2 and len(cache) == 0


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache, load = DecisionCache(maxsize=2), Loader(READ)
    for action in ("s3:GetObject", "s3:GetBucketAcl", "s3:GetObject", "s3:GetObjectTagging"):
        cache.decide(request(action), load)
    assert len(cache) == 2
    cache.decide(request("s3:GetObject"), load)  # kept: it was used after GetBucketAcl
    assert load.calls == 3
    with pytest.raises(ValueError):
        DecisionCache(maxsize=0)


# --- the request context -------------------------------------------------------------


def test_standard_context_of_a_user() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    context = standard_context(ALICE, source_ip="192.0.2.7", now=now, request_tags={"Team": "ml"})
    assert context["aws:username"] == "alice" and context["AWS:UserID"] == "AIDAALICEEXAMPLE12345"
    assert (
        context["aws:PrincipalArn"] == ALICE.arn
        and context["aws:PrincipalAccount"] == "123456789012"
    )
    assert context["aws:PrincipalType"] == "User" and context["aws:SecureTransport"] == "true"
    assert (
        context["aws:CurrentTime"] == "2024-05-01T12:00:00Z"
        and context["aws:EpochTime"] == "1714564800"
    )
    assert context["aws:TagKeys"] == ("Team",) and context["aws:requesttag/team"] == "ml"


def test_standard_context_of_a_role_session_and_of_root() -> None:
    # IAM UG, "Variables and tags", principal key values: a role session has no
    # aws:username, its aws:userid is role-id:session, aws:PrincipalArn the role
    session = standard_context(SESSION)
    assert "aws:username" not in session and session["aws:userid"] == "AROAAPPEXAMPLE1234567:worker"
    assert session["aws:PrincipalArn"] == "arn:aws:iam::123456789012:role/app"
    root = standard_context(Principal.root("123456789012"), secure_transport=False)
    assert root["aws:userid"] == "123456789012" and root["aws:PrincipalType"] == "Account"
    assert root["aws:SecureTransport"] == "false" and "aws:SourceIp" not in root
    assert Principal.anonymous().kind is PrincipalKind.ANONYMOUS


def test_context_values_are_normalized() -> None:
    context = ConditionContext({"K:Bool": True, "k:n": 3, "k:list": ["a", ("b", "c")]})
    assert (
        context["k:bool"] == "true"
        and context["K:N"] == "3"
        and context["k:list"] == ("a", "b", "c")
    )
    assert context.merged({"K:BOOL": False})["k:bool"] == "false" and context["k:bool"] == "true"


# --- speed -----------------------------------------------------------------------------


def test_a_ten_statement_policy_evaluates_in_microseconds() -> None:
    statements = [
        {
            "Effect": "Allow",
            "Action": [f"svc{i}:Get*", f"svc{i}:List*"],
            "Resource": f"arn:aws:svc{i}:us-east-1:123456789012:thing/${{aws:username}}/*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ml"}},
        }
        for i in range(9)
    ] + [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]
    document = parse_policy({"Version": "2012-10-17", "Statement": statements})
    context = standard_context(ALICE).merged({"aws:PrincipalTag/team": "ml"})
    last = Request(
        ALICE, "svc8:GetThing", "arn:aws:svc8:us-east-1:123456789012:thing/alice/x", context
    )
    assert evaluate(last, [document]).allowed
    runs = 2000
    started = time.perf_counter()
    for _ in range(runs):
        evaluate(last, [document])
    per_call = (time.perf_counter() - started) / runs
    # typically under 10 us; the bound only catches per-request compiling and the like
    assert per_call < 200e-6
