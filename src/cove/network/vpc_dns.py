"""The names a VPC's resolver answers itself, from the VPC's resources (PrivateLink guide,
"Access an AWS service using an interface VPC endpoint", "DNS hostnames"; VPC UG, "DNS
attributes for your VPC"):

- an interface endpoint's regional name resolves to all its ENIs' addresses, the asking
  host's own AZ first, and each zonal name to the ENI in that AZ;
- with private DNS enabled on it (and both DNS attributes on the VPC), the service's
  default hostnames resolve to the same addresses, inside this VPC only;
- the other public hostnames of the services Cove serves resolve to Cove's public edge
  inside the VPC network, which is reachable only through an internet-gateway route;
  S3's to an address of S3's own (S3's public addresses, the prefix list a gateway
  endpoint's route covers), reachable through an internet-gateway route too, or through
  an S3 gateway endpoint in the subnet's route table;
- any other name under `vpce.amazonaws.com` does not exist; everything else is not ours
  (the resolver forwards it, as Route 53 Resolver resolves public names).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cove.network.endpoint_services import VPCE_DOMAIN, Catalog
from cove.network.resolver import NOT_OURS, Addresses, Answer, NoSuchName
from cove.network.resources import EndpointType, NetworkInterface, VpcSnapshot

# Where Cove's public endpoints are served inside every VPC network: one address of the
# router namespace, from the range IANA keeps for benchmarking networks (RFC 2544), so it
# never shadows a real host.
PUBLIC_EDGE = "198.18.0.10"
S3_EDGE = "198.18.0.11"  # S3's public endpoint, for the names s3_names() gives


def s3_names(region: str) -> tuple[str, ...]:
    """S3's default hostnames (botocore's endpoint rules: the global and regional ones,
    path style or with the bucket below)."""
    return ("s3.amazonaws.com", "*.s3.amazonaws.com", f"s3.{region}.amazonaws.com",
            f"*.s3.{region}.amazonaws.com")  # fmt: skip


def public_names(region: str) -> tuple[str, ...]:
    """The default hostnames of what Cove serves (botocore's endpoint rules for the
    region): answered with the public edge inside a VPC."""
    r = region
    return (
        f"api.sagemaker.{r}.amazonaws.com", f"runtime.sagemaker.{r}.amazonaws.com",
        f"sagemaker.{r}.amazonaws.com", f"runtime-fips.sagemaker.{r}.amazonaws.com",
        "sts.amazonaws.com", f"sts.{r}.amazonaws.com",
        "iam.amazonaws.com", f"ec2.{r}.amazonaws.com", f"logs.{r}.amazonaws.com",
        f"lambda.{r}.amazonaws.com", f"apigateway.{r}.amazonaws.com",
        f"*.execute-api.{r}.amazonaws.com",
    )  # fmt: skip


def _matches(pattern: str, name: str) -> bool:
    if pattern.startswith("*."):
        # a wildcard covers one or more labels below its base, not the base itself
        return name.endswith(pattern[1:]) and len(name) > len(pattern) - 1
    return pattern == name


@dataclass
class VpcNames:
    """One VPC's names, rebuilt from a snapshot whenever the VPC changes."""

    region: str
    catalog: Catalog
    snapshot: VpcSnapshot | None = None
    # (pattern, interfaces) pairs: private DNS and vpce names
    _records: list[tuple[str, tuple[NetworkInterface, ...]]] = field(default_factory=list)
    _public: tuple[str, ...] = ()
    _s3: tuple[str, ...] = ()

    def update(self, snapshot: VpcSnapshot) -> None:
        self.snapshot = snapshot
        vpc = snapshot.vpc
        by_id = {eni.eni_id: eni for eni in snapshot.interfaces}
        zone_names = {subnet.zone.name for subnet in snapshot.subnets}
        records: list[tuple[str, tuple[NetworkInterface, ...]]] = []
        private: list[tuple[str, tuple[NetworkInterface, ...]]] = []
        for endpoint in snapshot.endpoints:
            if endpoint.endpoint_type is not EndpointType.INTERFACE:
                continue
            enis = tuple(by_id[e] for e in endpoint.eni_ids if e in by_id)
            for entry in endpoint.dns_entries:
                name = entry.dns_name.lower()
                if not name.endswith("." + VPCE_DOMAIN):
                    continue  # a private DNS name: answered below, when the VPC allows it
                # a zonal name answers its AZ's ENI only (none left there: no answer)
                zone = next((z for z in zone_names if f"-{z}." in name), None)
                held = enis if zone is None else tuple(e for e in enis if e.zone.name == zone)
                if name.startswith("*."):
                    name = name[2:]  # S3's: the name itself and everything below it
                    records.append(("*." + name, held))
                records.append((name, held))
            service = self.catalog.get(endpoint.service_name)
            private_dns = endpoint.private_dns_enabled and vpc.dns_support and vpc.dns_hostnames
            if private_dns and service is not None:
                private += [(n.lower(), enis) for n in service.private_dns_names]
        # private DNS names shadow the public ones, so they are looked up first
        self._records = private + records
        self._public = public_names(self.region) if vpc.dns_support else ()
        self._s3 = s3_names(self.region) if vpc.dns_support else ()

    def answer(self, name: str, client_ip: str) -> Answer:
        """The resolver's Zone: called with the name lower-cased, without its dot."""
        if self.snapshot is not None and not self.snapshot.vpc.dns_support:
            # enableDnsSupport off: the Amazon DNS server resolves nothing for the VPC
            return NoSuchName()
        client_zone = self._zone_of(client_ip)
        for pattern, enis in self._records:
            if _matches(pattern, name):
                ordered = sorted(enis, key=lambda e: e.zone.name != client_zone)
                return Addresses(tuple(e.private_ip for e in ordered))
        if name == VPCE_DOMAIN or name.endswith("." + VPCE_DOMAIN):
            return NoSuchName(VPCE_DOMAIN)
        if any(_matches(p, name) for p in self._public):
            return Addresses((PUBLIC_EDGE,))
        if any(_matches(p, name) for p in self._s3):
            return Addresses((S3_EDGE,))
        return NOT_OURS

    def _zone_of(self, ip: str) -> str | None:
        if self.snapshot is None:
            return None
        for eni in self.snapshot.interfaces:
            if ip in eni.private_ips:
                return eni.zone.name
        return None
