"""SageMaker's download of a model's artifact, made as the model's execution role
(network/s3_transfer.py): for a model outside a VPC by the server, as the role's session
(so its policies and the bucket's decide), for one in a VPC on each instance's ENI
(fleet_vpc.py); and the endpoint's FailureReason when it cannot be had.

- The role may not read it, or there is none: 'Failed to download model data for container
  "container_1" from URL: "s3://...". Please ensure that there is an object located at the
  URL and that the role passed to CreateModel has permissions to download the object.'
  (as CloudFormation reported an endpoint's failure:
  github.com/aws-samples/cvat-on-aws-china/issues/3), S3's own answer after it.
- No way to S3 from a subnet: UNREACHABLE_MODEL, with what to add to which route table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cove.network.s3_transfer import (
    FromServer,
    Transfer,
    TransferFailed,
    TransferFailure,
    Where,
    transfer,
)
from cove.runtime.model_store import Fetch, ModelDataError
from cove.storage.artifacts import ArtifactStore

# A model's only container is its primary one, which SageMaker names so in this message.
CONTAINER = "container_1"
DENIED_MODEL = (
    'Failed to download model data for container "{container}" from URL: "{url}". Please '
    "ensure that there is an object located at the URL and that the role passed to "
    "CreateModel has permissions to download the object."
)
# SageMaker's FailureReason when an instance in a VPC cannot reach the model artifact (as
# CloudFormation reports it: github.com/aws-solutions-library-samples/guidance-for-text-
# generation-using-embeddings-from-enterprise-data-on-aws/issues/3)
UNREACHABLE_MODEL = (
    'Failed to download model data from URL "{url}". Please ensure that an S3 VPC endpoint '
    "exists in route table or NAT gateway for the VPC mode and the URL is reachable from "
    "within the subnets provided."
)


async def model_transfer(
    job: Transfer, where: Where, advice: Callable[[TransferFailed], str] | None = None
) -> None:
    """`job` (the model's download, or a check that it can be read) made from `where`;
    ModelDataError with the endpoint's FailureReason. `advice`: what to do about S3 out of
    reach (from a subnet)."""
    try:
        await transfer(job, where)
    except TransferFailed as exc:
        if exc.failure is TransferFailure.UNREACHABLE and advice is not None:
            reason = f"{UNREACHABLE_MODEL.format(url=job.uri)} ({advice(exc)}.)"
        else:
            reason = f"{DENIED_MODEL.format(container=CONTAINER, url=job.uri)} ({exc})"
        raise ModelDataError(reason) from None


def from_server(
    url: str | None, role_env: dict[str, str], artifacts: ArtifactStore
) -> Fetch | None:
    """How the server downloads the artifact of a model outside a VPC: an s3:// one of
    Cove's own store as the model's role; None (the artifact store, with the server's own
    authority) for file:// artifacts, those of an external S3 service (COVE_S3_ENDPOINT_URL,
    which knows nothing of Cove's roles) and where no role's credentials are handed out."""
    if not role_env or not (url or "").startswith("s3://") or not artifacts.embedded:
        return None
    where = FromServer(role_env)

    async def fetch(url: str, archive: Path) -> None:
        await model_transfer(Transfer("get", url, archive), where)

    return fetch
