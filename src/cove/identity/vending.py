"""Execution-role credentials for the code Cove runs (model instances, jobs), served the
way ECS and EKS serve a task's role: the process gets `AWS_CONTAINER_CREDENTIALS_FULL_URI`
and `AWS_CONTAINER_AUTHORIZATION_TOKEN`, and boto3's and the AWS CLI's container provider
fetches temporary credentials of its role from there, again before they expire
(botocore, "credentials.ContainerProvider"; SageMaker Developer Guide, "How to use
SageMaker AI execution roles": SageMaker assumes the role for the code it runs).

Each grant is a random token naming a role and a session name; the credentials are a role
session issued for it (the same sessions AssumeRole issues), renewed once less than a
quarter of their hour remains. Releasing a grant (the instance or job stopped) ends it."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from cove.identity.directory import Directory
from cove.identity.sessions import Session

PATH = "/_cove/credentials"
SESSION_SECONDS = 3600
RENEW_BEFORE = SESSION_SECONDS / 4
URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN"


class RoleCredentials(Protocol):
    """Credentials of an execution role for code that runs as it (instances, jobs)."""

    def environment(self, role_arn: str, session_name: str) -> dict[str, str]:
        """The variables by which boto3 and the AWS CLI inside find temporary
        credentials of `role_arn` (refreshed as they expire) and Cove's endpoint."""
        ...

    def release(self, environment: dict[str, str]) -> None:
        """The code that got `environment` has stopped: its credentials end."""
        ...


@dataclass
class _Grant:
    role_arn: str
    session_name: str
    session: Session | None = None


class CredentialVending:
    def __init__(self, directory: Directory, endpoint_url: str, region: str) -> None:
        self.directory = directory
        self.endpoint_url = endpoint_url
        self.region = region
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def grant(self, role_arn: str, session_name: str) -> str:
        """A new grant of `role_arn`'s credentials: the token that names it."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[token] = _Grant(role_arn, session_name[:64])
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._grants.pop(token, None)

    def environment(self, role_arn: str, session_name: str) -> dict[str, str]:
        token = self.grant(role_arn, session_name)
        return {
            URI_VARIABLE: f"{self.endpoint_url}{PATH}",
            TOKEN_VARIABLE: token,
            # the code inside talks to Cove, in Cove's region, as AWS's would to AWS
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def session(self, role_arn: str, session_name: str) -> Session | None:
        """A role session whose keys the code gets directly, as Lambda sets
        AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (its holder replaces
        the code's process before they expire); None for a role that does not exist."""
        role = self.directory.role_by_arn(role_arn)
        if role is None:
            return None
        return self.directory.sessions.issue(role, session_name[:64], SESSION_SECONDS)

    def release(self, environment: dict[str, str]) -> None:
        self.revoke(environment.get(TOKEN_VARIABLE, ""))

    def credentials(self, token: str) -> Session | None:
        """Live credentials for the grant `token` names; None for an unknown token or a
        role that no longer exists."""
        with self._lock:
            grant = self._grants.get(token)
            if grant is None:
                return None
            session = grant.session
            if session is not None and session.expires - time.time() > RENEW_BEFORE:
                return session
            role = self.directory.role_by_arn(grant.role_arn)
            if role is None:
                return None
            grant.session = self.directory.sessions.issue(role, grant.session_name, SESSION_SECONDS)
            return grant.session
