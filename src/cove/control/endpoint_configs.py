"""CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs, DeleteEndpointConfig."""

from __future__ import annotations

from typing import Any

from cove.control.kinds import ENDPOINT_CONFIG
from cove.storage.resources import Resource

# Accepted by the API but not served by Cove yet: refused rather than silently ignored.
UNSUPPORTED_MEMBERS = (
    "AsyncInferenceConfig",
    "ShadowProductionVariants",
    "DataCaptureConfig",
    "ExplainerConfig",
)


def config_document(params: dict[str, Any]) -> dict[str, Any]:
    doc = {k: v for k, v in params.items() if k != "EndpointConfigName"}
    # DescribeEndpointConfig shows the default weight SageMaker applied.
    doc["ProductionVariants"] = [
        {**v, "InitialVariantWeight": v.get("InitialVariantWeight", 1.0)}
        for v in params["ProductionVariants"]
    ]
    return doc


def describe(res: Resource) -> dict[str, Any]:
    return {**res.doc, **ENDPOINT_CONFIG.identity(res)}
