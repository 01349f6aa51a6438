"""The AWS services Cove serves through VPC endpoints, as DescribeVpcEndpointServices
lists them, and the DNS names an endpoint of each gets.

DNS forms (AWS PrivateLink Guide, "Access an AWS service using an interface VPC
endpoint", and e.g. Neptune Analytics "Accessing interface endpoints"): the regional
name `vpce-<id>-<suffix>.<label>.<region>.vpce.amazonaws.com` and one zonal name per
AZ, `vpce-<id>-<suffix>-<az>.<label>.<region>.vpce.amazonaws.com`. The labels are the
services' own: `runtime.sagemaker`, `api.sagemaker`, `sts`, and `s3`, whose names are
wildcards (`*.vpce-...s3.<region>.vpce.amazonaws.com`: buckets, access points and the
control API are addressed below them, `bucket.vpce-...`; Amazon S3 User Guide,
"AWS PrivateLink for Amazon S3"). Private DNS names are the services' default hostnames.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cove.network.resources import EndpointType

VPCE_DOMAIN = "vpce.amazonaws.com"
# Route 53 hosted zones AWS names in DnsEntries; us-east-1's PrivateLink zone id, and
# the one Cove answers for every region (the id is opaque to clients).
VPCE_HOSTED_ZONE = "Z7HUB22UULQXV"


@dataclass(frozen=True)
class ServiceSpec:
    """One service, independent of the region: `{region}` fills the names."""

    suffix: str  # com.amazonaws.<region>.<suffix>
    label: str  # the service's part of its vpce DNS names
    private_dns: tuple[str, ...]  # the default hostnames private DNS answers for
    signing_name: str  # the Cove service that serves requests reaching it
    types: tuple[EndpointType, ...] = (EndpointType.INTERFACE,)
    wildcard: bool = False  # its vpce names are `*.vpce-...`


@dataclass(frozen=True)
class PrefixList:
    """A gateway endpoint's route destination: the service's public ranges."""

    prefix_list_id: str
    name: str
    cidrs: tuple[str, ...]


SAGEMAKER_RUNTIME = ServiceSpec(
    "sagemaker.runtime",
    "runtime.sagemaker",
    ("runtime.sagemaker.{region}.amazonaws.com",),
    "sagemaker",
)
SAGEMAKER_API = ServiceSpec(
    "sagemaker.api", "api.sagemaker", ("api.sagemaker.{region}.amazonaws.com",), "sagemaker"
)
S3 = ServiceSpec(
    "s3",
    "s3",
    ("s3.{region}.amazonaws.com", "*.s3.{region}.amazonaws.com"),
    "s3",
    (EndpointType.INTERFACE, EndpointType.GATEWAY),
    wildcard=True,
)
STS = ServiceSpec("sts", "sts", ("sts.{region}.amazonaws.com",), "sts")
# The seam for the next issues: not served yet, listed once their front ends exist.
LAMBDA = ServiceSpec("lambda", "lambda", ("lambda.{region}.amazonaws.com",), "lambda")
EXECUTE_API = ServiceSpec(
    "execute-api", "execute-api", ("*.execute-api.{region}.amazonaws.com",), "execute-api",
    wildcard=True,
)  # fmt: skip

SERVED: tuple[ServiceSpec, ...] = (SAGEMAKER_API, SAGEMAKER_RUNTIME, S3, STS)

# S3's prefix list: us-east-1's real id (`pl-63a5400a`, com.amazonaws.us-east-1.s3) and
# ranges AWS publishes for S3 there (ip-ranges.json, service S3); other regions get an id
# of the same shape derived from the region name.
_S3_PREFIX_LISTS = {"us-east-1": "pl-63a5400a"}
_S3_CIDRS: dict[str, tuple[str, ...]] = {
    "us-east-1": (
        "3.5.0.0/19", "16.182.0.0/16", "18.34.0.0/19", "18.34.232.0/21",
        "52.216.0.0/15", "54.231.0.0/16",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class EndpointService:
    """A service of the catalog in one region."""

    spec: ServiceSpec
    region: str

    @property
    def service_name(self) -> str:
        return f"com.amazonaws.{self.region}.{self.spec.suffix}"

    @property
    def types(self) -> tuple[EndpointType, ...]:
        return self.spec.types

    @property
    def signing_name(self) -> str:
        return self.spec.signing_name

    @property
    def base_dns_name(self) -> str:
        """`runtime.sagemaker.us-east-1.vpce.amazonaws.com` (BaseEndpointDnsNames)."""
        return f"{self.spec.label}.{self.region}.{VPCE_DOMAIN}"

    @property
    def private_dns_names(self) -> tuple[str, ...]:
        return tuple(name.format(region=self.region) for name in self.spec.private_dns)

    def regional_dns_name(self, endpoint_id: str, suffix: str) -> str:
        return self._name(f"{endpoint_id}-{suffix}")

    def zonal_dns_name(self, endpoint_id: str, suffix: str, zone_name: str) -> str:
        return self._name(f"{endpoint_id}-{suffix}-{zone_name}")

    def _name(self, head: str) -> str:
        star = "*." if self.spec.wildcard else ""
        return f"{star}{head}.{self.base_dns_name}"

    def prefix_list(self) -> PrefixList | None:
        """The prefix list a gateway endpoint of this service routes to, if it has one."""
        if EndpointType.GATEWAY not in self.types:
            return None
        pl_id = _S3_PREFIX_LISTS.get(self.region) or _derived_prefix_list_id(self.region)
        cidrs = _S3_CIDRS.get(self.region, _S3_CIDRS["us-east-1"])
        return PrefixList(pl_id, self.service_name, cidrs)


def _derived_prefix_list_id(region: str) -> str:
    return "pl-" + hashlib.sha256(f"s3:{region}".encode()).hexdigest()[:8]


class Catalog:
    """The services of one region; `extra` adds services (lambda, execute-api) later."""

    def __init__(self, region: str, extra: Iterable[ServiceSpec] = ()) -> None:
        self.region = region
        specs = (*SERVED, *extra)
        self._services = {
            s.service_name: s for s in (EndpointService(spec, region) for spec in specs)
        }

    def __iter__(self) -> Iterator[EndpointService]:
        return iter(sorted(self._services.values(), key=lambda s: s.service_name))

    def get(self, service_name: str) -> EndpointService | None:
        return self._services.get(service_name)

    def prefix_lists(self) -> tuple[PrefixList, ...]:
        return tuple(pl for s in self if (pl := s.prefix_list()) is not None)
