"""One InvokeEndpoint call as the data plane carries it to an instance, and how it ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cove.instance.serving.batch import BatchItem
from cove.instance.serving.context import CUSTOM_ATTRIBUTES
from cove.runtime.client import HttpResponse, NotSent

INFERENCE_ID = "X-Amzn-SageMaker-Inference-Id"


@dataclass(slots=True)
class Invocation:
    body: bytes
    content_type: str | None
    accept: str | None
    custom_attributes: str | None = None
    inference_id: str | None = None
    # the AZ of the interface endpoint ENI the call came through: served in that AZ
    # when the variant has a healthy instance there; None (the public path): any AZ
    az: str | None = None
    # the AZ the call comes from where it is known (that ENI's, or a VPC host's on the
    # public path): served elsewhere, it pays the cross-AZ delay when one is set
    caller_az: str | None = None

    def headers(self) -> list[tuple[str, str]]:
        """The request headers of the container contract's `POST /invocations`."""
        headers: list[tuple[str, str]] = []
        if self.content_type:
            headers.append(("Content-Type", self.content_type))
        if self.accept:
            headers.append(("Accept", self.accept))
        if self.custom_attributes is not None:
            headers.append((CUSTOM_ATTRIBUTES, self.custom_attributes))
        if self.inference_id is not None:
            headers.append((INFERENCE_ID, self.inference_id))
        return headers

    def batch_item(self) -> BatchItem:
        return BatchItem(
            self.content_type or "", self.accept or "", self.custom_attributes, self.body
        )


class QueueTimeout(TimeoutError):
    """The call waited its whole timeout behind others and never reached the model."""


class Moved(NotSent):
    """Taken out of a busy instance's queue for an idle instance of the same variant."""


# Called exactly once: the instance's answer, or the exception that ended the call
# (TimeoutError, QueueTimeout, NotSent, or OSError/ConnectionError when the instance went
# away with the call in flight).
Done = Callable[[HttpResponse | Exception], None]
