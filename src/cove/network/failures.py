"""The network store's typed failures, each with EC2's error code and the text EC2 sends
(EC2 API reference, "Error codes for the Amazon EC2 API",
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html; the texts as
AWS answers them, quoted in the tests that pin each). Every one is a client error (400).
"""

from __future__ import annotations

from enum import Enum


class Failure(Enum):
    """(code, message template); the template's fields come with the failure."""

    VPC_NOT_FOUND = ("InvalidVpcID.NotFound", "The vpc ID '{id}' does not exist")
    SUBNET_NOT_FOUND = ("InvalidSubnetID.NotFound", "The subnet ID '{id}' does not exist")
    GROUP_NOT_FOUND = ("InvalidGroup.NotFound", "The security group '{id}' does not exist")
    GROUP_NAME_NOT_FOUND = (
        "InvalidGroup.NotFound",
        "The security group '{name}' does not exist in VPC '{vpc}'",
    )
    RULE_NOT_FOUND = (
        "InvalidSecurityGroupRuleId.NotFound",
        "The security group rule ID '{id}' does not exist",
    )
    ROUTE_TABLE_NOT_FOUND = (
        "InvalidRouteTableID.NotFound",
        "The routeTable ID '{id}' does not exist",
    )
    ASSOCIATION_NOT_FOUND = (
        "InvalidAssociationID.NotFound",
        "The association ID '{id}' does not exist",
    )
    GATEWAY_NOT_FOUND = (
        "InvalidInternetGatewayID.NotFound",
        "The internetGateway ID '{id}' does not exist",
    )
    ENDPOINT_NOT_FOUND = (
        "InvalidVpcEndpointId.NotFound",
        "The VpcEndpoint Id '{id}' does not exist",
    )
    INTERFACE_NOT_FOUND = (
        "InvalidNetworkInterfaceID.NotFound",
        "The networkInterface ID '{id}' does not exist",
    )
    SERVICE_NOT_FOUND = (
        "InvalidServiceName",
        "The Vpc Endpoint Service '{name}' does not exist",
    )
    VPC_RANGE = ("InvalidVpc.Range", "The CIDR '{cidr}' is invalid.")
    SUBNET_RANGE = ("InvalidSubnet.Range", "The CIDR '{cidr}' is invalid.")
    SUBNET_CONFLICT = ("InvalidSubnet.Conflict", "The CIDR '{cidr}' conflicts with another subnet")
    ZONE_UNKNOWN = (
        "InvalidParameterValue",
        "Value ({zone}) for parameter availabilityZone is invalid. "
        "Subnets can currently only be created in the following availability zones: {zones}.",
    )
    ZONE_ID_UNKNOWN = (
        "InvalidParameterValue",
        "Value ({zone}) for parameter availabilityZoneId is invalid. "
        "Subnets can currently only be created in the following availability zones: {zones}.",
    )
    INVALID_VALUE = ("InvalidParameterValue", "{message}")
    INVALID_PARAMETER = ("InvalidParameter", "{message}")
    INVALID_COMBINATION = ("InvalidParameterCombination", "{message}")
    MISSING_PARAMETER = ("MissingParameter", "{message}")
    VPC_IN_USE = ("DependencyViolation", "The vpc '{id}' has dependencies and cannot be deleted.")
    SUBNET_IN_USE = (
        "DependencyViolation",
        "The subnet '{id}' has dependencies and cannot be deleted.",
    )
    GROUP_IN_USE = ("DependencyViolation", "resource {id} has a dependent object")
    ROUTE_TABLE_IN_USE = (
        "DependencyViolation",
        "The routeTable '{id}' has dependencies and cannot be deleted.",
    )
    GATEWAY_IN_USE = (
        "DependencyViolation",
        "The internetGateway '{id}' has dependencies and cannot be deleted.",
    )
    INTERFACE_IN_USE = (
        "InvalidParameterValue",
        "Network interface '{id}' is currently in use.",
    )
    DEFAULT_GROUP = (
        "CannotDelete",
        'the specified group: "{id}" name: "default" cannot be deleted by a user',
    )
    GROUP_DUPLICATE = (
        "InvalidGroup.Duplicate",
        "The security group '{name}' already exists for VPC '{vpc}'",
    )
    GROUP_RESERVED = (
        "InvalidGroup.Reserved",
        "The security group 'default' is reserved",
    )
    PERMISSION_DUPLICATE = (
        "InvalidPermission.Duplicate",
        'the specified rule "{rule}" already exists',
    )
    PERMISSION_NOT_FOUND = (
        "InvalidPermission.NotFound",
        "The specified rule does not exist in this security group.",
    )
    GROUPS_DIFFERENT_VPC = (
        "InvalidParameter",
        "Security group {id} and subnet {subnet} belong to different networks.",
    )
    GATEWAY_ATTACHED = (
        "Resource.AlreadyAssociated",
        "resource {id} is already attached to network {vpc}",
    )
    VPC_HAS_GATEWAY = (
        "InvalidParameterValue",
        "Network {vpc} already has an internet gateway attached",
    )
    GATEWAY_NOT_ATTACHED = ("Gateway.NotAttached", "resource {id} is not attached to network {vpc}")
    ROUTE_EXISTS = ("RouteAlreadyExists", "The route identified by {destination} already exists.")
    ROUTE_NOT_FOUND = (
        "InvalidRoute.NotFound",
        "no route with destination-cidr-block {destination} in route table {table}",
    )
    ROUTE_LOCAL = (
        "InvalidParameterValue",
        "cannot remove local route {destination} in route table {table}",
    )
    ROUTE_TARGET_NETWORK = (
        "InvalidParameterValue",
        "route table {table} and network gateway {target} belong to different networks",
    )
    ASSOCIATION_EXISTS = (
        "Resource.AlreadyAssociated",
        "the specified association for route table {table} conflicts with an existing association",
    )
    MAIN_ASSOCIATION = (
        "InvalidParameterValue",
        "cannot disassociate the main route table association {id}",
    )
    DIFFERENT_NETWORKS = (
        "InvalidParameterValue",
        "{first} and {second} belong to different networks",
    )
    DUPLICATE_ZONE = (
        "DuplicateSubnetsInSameZone",
        "Found another VPC endpoint subnet in the availability zone of {subnet}. VPC endpoint "
        "subnets should be in different availability zones supported by the VPC endpoint "
        "service.",
    )
    PRIVATE_DNS_ATTRIBUTES = (
        "InvalidParameter",
        "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC "
        "attributes set to true for {vpc}",
    )
    PRIVATE_DNS_CONFLICT = (
        "InvalidParameter",
        "private-dns-enabled cannot be set because there is already a conflicting DNS domain "
        "for {name} in the VPC {vpc}",
    )
    SUBNET_FULL = (
        "InsufficientFreeAddressesInSubnet",
        "There are not enough free addresses in subnet '{id}' to satisfy the requested "
        "number of instances.",
    )
    TAG_RESOURCE_NOT_FOUND = ("InvalidID", "The ID '{id}' is not valid")

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def template(self) -> str:
        return self.value[1]


class NetworkError(Exception):
    """A refused network operation: EC2's code and its formatted message."""

    def __init__(self, failure: Failure, **fields: object) -> None:
        self.failure = failure
        self.fields = fields
        super().__init__(failure.template.format(**fields))

    @property
    def code(self) -> str:
        return self.failure.code

    @property
    def message(self) -> str:
        return str(self)


def invalid(message: str) -> NetworkError:
    return NetworkError(Failure.INVALID_VALUE, message=message)
