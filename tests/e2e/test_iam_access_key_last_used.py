"""GetAccessKeyLastUsed against a real `cove server`, with boto3 and the AWS CLI: when a
key last signed a request, for which service and in which region, kept across a restart.

AWS's behaviour pinned here (IAM API reference, "GetAccessKeyLastUsed",
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html, and
"AccessKeyLastUsed",
https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyLastUsed.html):
- the answer names the key's user (UserName) and "the date and time of last use, along with
  the AWS service and Region that were specified in the last request made with that key";
- a key never used: ServiceName and Region "N/A", no LastUsedDate ("This field is null");
- the key's use is its signature's: the service and region of its credential scope, for
  any request it signed.

Cove writes what it notes every few seconds and at shutdown (cove.identity.key_usage):
both are pinned here by restarting the server, gracefully and by SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import time
from pathlib import Path
from typing import Any

from tests.conftest import CoveServer
from tests.e2e.iam_support import as_key, error_of, user_with_key

FLUSH_INTERVAL = 5  # cove.identity.key_usage.FLUSH_INTERVAL


def last_used(server: CoveServer, key_id: str) -> dict[str, Any]:
    return server.client("iam").get_access_key_last_used(AccessKeyId=key_id)


def test_a_key_never_used_is_not_applicable(server: CoveServer) -> None:
    key = user_with_key(server, "lu-idle")
    answer = last_used(server, key["AccessKeyId"])
    assert answer["UserName"] == "lu-idle"
    assert answer["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}


def test_the_last_request_names_service_region_and_time(server: CoveServer) -> None:
    key = user_with_key(server, "lu-busy")
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    as_key(server, "sts", key, region="eu-west-1").get_caller_identity()
    used = last_used(server, key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("sts", "eu-west-1")
    assert before <= used["LastUsedDate"] <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    # a request the key signs counts, allowed or not (the user has no policy)
    assert error_of(as_key(server, "sagemaker", key, region="ap-south-1").list_models)[0] == (
        "AccessDeniedException"
    )
    cli = json.loads(server.aws(
        "iam", "get-access-key-last-used", "--access-key-id", key["AccessKeyId"]
    ).stdout)  # fmt: skip
    assert cli["UserName"] == "lu-busy"
    assert (cli["AccessKeyLastUsed"]["ServiceName"], cli["AccessKeyLastUsed"]["Region"]) == (
        "sagemaker", "ap-south-1",
    )  # fmt: skip


def test_an_unknown_key_is_no_such_entity(server: CoveServer) -> None:
    iam = server.client("iam")
    key = user_with_key(server, "lu-gone")
    iam.delete_access_key(UserName="lu-gone", AccessKeyId=key["AccessKeyId"])
    assert error_of(iam.get_access_key_last_used, AccessKeyId=key["AccessKeyId"]) == (
        "NoSuchEntity", 404, f"The Access Key with id {key['AccessKeyId']} cannot be found.",
    )  # fmt: skip


def test_the_root_users_key_has_no_user_name(server: CoveServer) -> None:
    admin_key, _ = server.credentials()
    answer = last_used(server, admin_key)  # this very request used it
    assert "UserName" not in answer
    assert (answer["AccessKeyLastUsed"]["ServiceName"], answer["AccessKeyLastUsed"]["Region"]) == (
        "iam", "us-east-1",
    )  # fmt: skip


def restart(server: CoveServer, sig: int) -> None:
    server.stop(sig)
    server.start()


def test_last_use_survives_a_restart_and_a_crash(make_server: Any, tmp_path: Path) -> None:
    server = make_server(tmp_path / "data")
    key = user_with_key(server, "lu-kept")
    error_of(as_key(server, "s3", key, region="us-west-2").list_buckets)  # denied: still a use
    restart(server, signal.SIGTERM)  # written at shutdown
    used = last_used(server, key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("s3", "us-west-2")
    as_key(server, "sts", key, region="eu-central-1").get_caller_identity()
    time.sleep(FLUSH_INTERVAL + 1.5)  # written by the periodic flush
    restart(server, signal.SIGKILL)
    used = last_used(server, key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("sts", "eu-central-1")
