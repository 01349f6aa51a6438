"""How each SageMaker resource kind is stored, named (ARN) and reported in errors.

SageMaker answers a missing or duplicate resource with a ValidationException that quotes
the resource's ARN, e.g. `Could not find model "arn:aws:sagemaker:...:model/foo".`
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cove.config import Settings
from cove.errors import AwsError, validation_error
from cove.storage.resources import AlreadyExists, Resource, ResourceStore


@dataclass(frozen=True)
class Kind:
    store_kind: str  # ResourceStore kind
    arn_type: str  # ARN resource type: arn:aws:sagemaker:<region>:<account>:<arn_type>/<name>
    label: str  # how SageMaker's messages call it
    member: str  # prefix of the <member>Name / <member>Arn fields in API shapes

    def identity(self, res: Resource) -> dict[str, Any]:
        """The name, ARN and creation time every Describe and List summary carries."""
        return {
            f"{self.member}Name": res.name,
            f"{self.member}Arn": res.arn,
            "CreationTime": res.created,
        }

    def arn(self, settings: Settings, name: str) -> str:
        return settings.arn("sagemaker", f"{self.arn_type}/{name.lower()}")

    def not_found(self, settings: Settings, name: str) -> AwsError:
        return validation_error(f'Could not find {self.label} "{self.arn(settings, name)}".')

    def already_exists(self, settings: Settings, name: str) -> AwsError:
        arn = self.arn(settings, name)
        return validation_error(f'Cannot create already existing {self.label} "{arn}".')

    def get(self, store: ResourceStore, settings: Settings, name: str) -> Resource:
        """The resource named `name`, or SageMaker's not-found ValidationException."""
        res = store.get(self.store_kind, name)
        if res is None:
            raise self.not_found(settings, name)
        return res

    def create(
        self,
        store: ResourceStore,
        settings: Settings,
        name: str,
        doc: dict,
        status: str | None = None,
    ) -> Resource:
        try:
            return store.create(self.store_kind, name, self.arn(settings, name), doc, status)
        except AlreadyExists:
            raise self.already_exists(settings, name) from None


MODEL = Kind("model", "model", "model", "Model")
ENDPOINT_CONFIG = Kind(
    "endpoint-config", "endpoint-config", "endpoint configuration", "EndpointConfig"
)
ENDPOINT = Kind("endpoint", "endpoint", "endpoint", "Endpoint")
