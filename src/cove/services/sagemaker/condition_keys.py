"""The condition keys a SageMaker request sets, for policies to test (Service
Authorization Reference, "Actions, resources, and condition keys for Amazon SageMaker
AI": aws:RequestTag/${TagKey} and aws:TagKeys on the Create calls and AddTags;
sagemaker:InstanceTypes on CreateEndpointConfig and CreateTrainingJob;
sagemaker:VpcSubnets, sagemaker:VpcSecurityGroupIds and sagemaker:NetworkIsolation on
CreateModel and CreateTrainingJob)."""

from __future__ import annotations

from typing import Any

from cove.iam.request import request_tag_keys


def keys_of(operation: str, params: dict[str, Any]) -> dict[str, object]:
    keys = request_tag_keys(params.get("Tags"))
    types = _instance_types(operation, params)
    if types:
        keys["sagemaker:InstanceTypes"] = types
    vpc = params.get("VpcConfig")
    if operation in ("CreateModel", "CreateTrainingJob"):
        if isinstance(vpc, dict):
            keys["sagemaker:VpcSubnets"] = list(vpc.get("Subnets", []))
            keys["sagemaker:VpcSecurityGroupIds"] = list(vpc.get("SecurityGroupIds", []))
        keys["sagemaker:NetworkIsolation"] = bool(params.get("EnableNetworkIsolation"))
    return keys


def _instance_types(operation: str, params: dict[str, Any]) -> list[str]:
    if operation == "CreateEndpointConfig":
        variants = params.get("ProductionVariants") or []
        return [v["InstanceType"] for v in variants if v.get("InstanceType")]
    if operation == "CreateTrainingJob":
        kind = (params.get("ResourceConfig") or {}).get("InstanceType")
        return [kind] if kind else []
    return []
