"""The VPCs as real networks on this host, built from the store's records and kept in step
with them (see DESIGN.md, "Network plane"):

- one router namespace per VPC; every ENI is a namespace of its own whose `eth0` holds
  its private IPs, linked point-to-point to the router (so every packet, within a subnet
  too, crosses the router, whose one stateful nftables table is the security groups);
- the router holds the VPC resolver (base + 2), Cove's public edge and S3's public
  endpoint (reachable only from subnets whose route table has an internet-gateway route),
  and a listener of S3's per S3 gateway endpoint, which S3's connections from the subnets
  of its route tables are redirected to (so its policy applies to them);
- an interface endpoint's ENI serves its service on port 443 with TLS, from a socket made
  inside the ENI's namespace and served by the server's own event loop; a host's ENI
  (`cove exec`) has its instance metadata service at 169.254.169.254; a SageMaker
  instance's or job's ENI the container credentials endpoint at 169.254.170.2, which its
  code's AWS clients ask for the execution role's credentials (a link-local address of
  the ENI's own namespace: no route or security group stands between them).

`reconcile(vpc_id)` converges the built network on the store's snapshot; the store calls
for it after every change. Blocking work (namespaces, `ip`, `nft`) runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass, field
from typing import Protocol

from cove.host.netns import links
from cove.host.netns.firewall import render
from cove.host.netns.namespaces import (
    Namespace,
    NetworkUnavailable,
    Privilege,
    UserNamespace,
    check_support,
)
from cove.network.failures import NetworkError
from cove.network.firewall_rules import ruleset_of
from cove.network.resolver import Resolver
from cove.network.resources import (
    SAGEMAKER_REQUESTER,
    EndpointState,
    EndpointType,
    NetworkInterface,
    Subnet,
    VpcEndpoint,
    VpcSnapshot,
)
from cove.network.store import NetworkStore
from cove.network.vpc_dns import PUBLIC_EDGE, S3_EDGE, VpcNames, public_names, s3_names
from cove.pki.authority import CertificateAuthority

log = logging.getLogger(__name__)

METADATA_ADDRESS = "169.254.169.254"
CREDENTIALS_ADDRESS = "169.254.170.2"  # where ECS's agent serves a task's role credentials
GATEWAY_NET = "198.18.1"  # router addresses of the S3 gateway endpoints' listeners (/24)
HTTPS = 443
RETRY_AFTER = 1.0  # seconds before a VPC whose build failed is built again
PROBE_TIMEOUT = 2.0  # seconds a new endpoint listener has to complete a TLS handshake
STOP_WAIT = 30.0  # seconds a build under way may take to finish at shutdown


class Closable(Protocol):
    def close(self) -> None: ...


class Listeners(Protocol):
    """How the server serves sockets the fabric makes (the gateway, over TLS or not)."""

    async def serve_endpoint(
        self, sock: socket.socket, tls: ssl.SSLContext, endpoint: VpcEndpoint,
        eni: NetworkInterface,
    ) -> Closable: ...  # fmt: skip

    async def serve_metadata(self, sock: socket.socket, eni: NetworkInterface) -> Closable: ...

    async def serve_credentials(self, sock: socket.socket, eni: NetworkInterface) -> Closable: ...

    async def serve_public(
        self, sock: socket.socket, tls: ssl.SSLContext, vpc_id: str
    ) -> Closable: ...

    async def serve_s3(
        self, sock: socket.socket, tls: ssl.SSLContext, vpc_id: str, gateway: VpcEndpoint | None
    ) -> Closable:
        """S3 alone: on its public endpoint (`gateway` None), or behind a gateway endpoint."""
        ...


@dataclass
class _Interface:
    eni: NetworkInterface
    namespace: Namespace
    router_if: str
    servers: list[Closable] = field(default_factory=list)


@dataclass
class _Gateway:
    """An S3 gateway endpoint's listener: a router address of its own."""

    address: str
    server: Closable


@dataclass
class _Vpc:
    vpc_id: str
    router: Namespace
    names: VpcNames
    resolver: Resolver | None = None
    servers: list[Closable] = field(default_factory=list)
    interfaces: dict[str, _Interface] = field(default_factory=dict)
    gateways: dict[str, _Gateway] = field(default_factory=dict)


def router_ifname(eni_id: str) -> str:
    """The router's end of an ENI's link: 15 characters at most (IFNAMSIZ)."""
    return "v" + eni_id.removeprefix("eni-")[-14:]


class Fabric:
    def __init__(
        self, store: NetworkStore, listeners: Listeners, authority: CertificateAuthority,
        region: str,
    ) -> None:  # fmt: skip
        self.store = store
        self.listeners = listeners
        self.authority = authority
        self.region = region
        self._vpcs: dict[str, _Vpc] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._probe_tls: ssl.SSLContext | None = None
        self._s3_context: ssl.SSLContext | None = None
        self.unavailable: str | None = None  # why VPCs cannot be built here, if they cannot
        self.privilege: Privilege | None = None
        self._owner: UserNamespace | None = None  # rootless: where every namespace lives

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        """Build every VPC the store has (before the server says it is serving)."""
        self._loop = asyncio.get_running_loop()
        try:
            self.privilege = await asyncio.to_thread(check_support)
            if self.privilege is Privilege.ROOTLESS:
                self._owner = await asyncio.to_thread(UserNamespace.create)
                log.info("VPC networks are built rootless, in a user namespace of their own")
        except NetworkUnavailable as why:
            self.unavailable = str(why)
            log.warning("VPC networks are not built on this host: %s", why)
        self.store.subscribe(self.changed)
        for vpc_id in self.store.vpc_ids():
            try:
                await self.reconcile(vpc_id)
            except Exception:  # one VPC that cannot be built must not keep the server down
                log.exception("building VPC %s failed; trying again", vpc_id)
                self._retry(vpc_id)
        self._worker = asyncio.create_task(self._work(), name="fabric")

    async def stop(self) -> None:
        """Let a build under way finish (a cancelled one would leave what its thread made
        unrecorded), then take every VPC down."""
        self._stopping = True
        self._wake.set()
        if self._worker is not None:
            try:
                await asyncio.wait_for(self._worker, STOP_WAIT)
            except TimeoutError:
                log.warning("a VPC build did not finish in %s s; stopping anyway", STOP_WAIT)
        for vpc_id in list(self._vpcs):
            async with self._locks.setdefault(vpc_id, asyncio.Lock()):
                await self._tear_down(vpc_id)
        if self._owner is not None:
            await asyncio.to_thread(self._owner.close)
            self._owner = None

    def changed(self, vpc_id: str) -> None:
        """The store's callback (from any thread): rebuild that VPC soon."""
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(self._mark, vpc_id)

    def _mark(self, vpc_id: str) -> None:
        self._pending.add(vpc_id)
        self._wake.set()

    async def _work(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            while self._pending and not self._stopping:
                vpc_id = self._pending.pop()
                try:
                    await self.reconcile(vpc_id)
                except Exception:
                    log.exception("building VPC %s failed; trying again", vpc_id)
                    self._retry(vpc_id)

    def _retry(self, vpc_id: str) -> None:
        """Build the VPC again a little later (a step failed: a listener, a rule)."""
        if self._loop is not None and not self._stopping:
            self._loop.call_later(RETRY_AFTER, self._mark, vpc_id)

    # -- queries --------------------------------------------------------------------
    def namespace_of(self, eni_id: str) -> Namespace | None:
        for vpc in self._vpcs.values():
            built = vpc.interfaces.get(eni_id)
            if built is not None:
                return built.namespace
        return None

    # -- building -------------------------------------------------------------------
    async def reconcile(self, vpc_id: str) -> None:
        if self.unavailable is not None or self._stopping:
            return  # (stopping: an owner releasing its ENI must not build the VPC again)
        # one build of a VPC at a time, from the newest snapshot read under the lock
        async with self._locks.setdefault(vpc_id, asyncio.Lock()):
            snapshot = self.store.snapshot_or_none(vpc_id)
            if snapshot is None:
                await self._tear_down(vpc_id)
                return
            vpc = self._vpcs.get(vpc_id) or await self._build_router(snapshot)
            await self._converge(vpc, snapshot)

    async def _build_router(self, snapshot: VpcSnapshot) -> _Vpc:
        """The VPC's router with its resolver and public edge: recorded only once all of
        it works (a failure takes down what was made, and the next pass tries again)."""
        vpc_id = snapshot.vpc.vpc_id
        router = await asyncio.to_thread(Namespace.create, f"{vpc_id}-router", self._owner)
        vpc = _Vpc(vpc_id, router, VpcNames(self.region, self.store.catalog))
        resolver_ip = ipaddress.IPv4Address(snapshot.vpc.resolver_ip)
        made: list[socket.socket] = []

        def prepare() -> None:
            router.sysctl("net.ipv4.ip_forward", 1)
            # what no route covers is dropped, so connections time out as in AWS
            links.route(router, ipaddress.IPv4Network("0.0.0.0/0"), blackhole=True)
            links.add_local_address(router, resolver_ip)
            links.add_local_address(router, ipaddress.IPv4Address(PUBLIC_EDGE))
            links.add_local_address(router, ipaddress.IPv4Address(S3_EDGE))
            made.append(router.socket(socket.AF_INET, socket.SOCK_DGRAM, (str(resolver_ip), 53)))
            made.append(router.socket(socket.AF_INET, socket.SOCK_STREAM, (str(resolver_ip), 53)))
            made.append(router.socket(socket.AF_INET, socket.SOCK_STREAM, (PUBLIC_EDGE, HTTPS)))
            made.append(router.socket(socket.AF_INET, socket.SOCK_STREAM, (S3_EDGE, HTTPS)))

        try:
            await asyncio.to_thread(prepare)
            udp, tcp, edge, s3 = made
            vpc.resolver = Resolver(vpc.names)
            await vpc.resolver.serve(udp, tcp)
            tls = await asyncio.to_thread(
                self.authority.server_context, public_names(self.region), (PUBLIC_EDGE,)
            )
            vpc.servers.append(await self.listeners.serve_public(edge, tls, vpc_id))
            s3_tls = await self._s3_tls()
            vpc.servers.append(await self.listeners.serve_s3(s3, s3_tls, vpc_id, None))
        except BaseException:
            for sock in made:
                sock.close()
            await self._close_vpc(vpc)
            raise
        self._vpcs[vpc_id] = vpc
        return vpc

    async def _converge(self, vpc: _Vpc, snapshot: VpcSnapshot) -> None:
        wanted = {eni.eni_id: eni for eni in snapshot.interfaces}
        for eni_id in [e for e in vpc.interfaces if e not in wanted]:
            await self._remove_interface(vpc, vpc.interfaces.pop(eni_id))
        subnets = {s.subnet_id: s for s in snapshot.subnets}
        endpoints = {e.endpoint_id: e for e in snapshot.endpoints}
        failed = False
        for eni_id, eni in wanted.items():
            held = vpc.interfaces.get(eni_id)
            if held is not None and held.namespace.alive:
                held.eni = eni
                continue
            if held is not None:  # its holder died: the ENI is built again
                log.warning("the namespace of %s is gone; building it again", eni_id)
                await self._remove_interface(vpc, vpc.interfaces.pop(eni_id))
            try:
                vpc.interfaces[eni_id] = await self._build_interface(
                    vpc, eni, subnets[eni.subnet_id], endpoints.get(eni.owner or "")
                )
            except Exception:
                # one ENI that cannot be built must not hold the VPC's rules back
                log.exception("building %s of %s failed", eni_id, vpc.vpc_id)
                failed = True
        vpc.names.update(snapshot)
        failed |= not await self._converge_gateways(vpc, snapshot)
        ports = {e: b.router_if for e, b in vpc.interfaces.items()}
        script = ruleset_of(snapshot, ports, {e: g.address for e, g in vpc.gateways.items()})
        await asyncio.to_thread(vpc.router.nft, render(script))
        pending = [e for e in snapshot.endpoints if e.state is EndpointState.PENDING]
        await asyncio.gather(*(self._settle_state(vpc, e) for e in pending))
        if failed:
            self._retry(vpc.vpc_id)

    async def _build_interface(
        self, vpc: _Vpc, eni: NetworkInterface, subnet: Subnet, endpoint: VpcEndpoint | None
    ) -> _Interface:
        """The ENI's namespace and link, and its listener: an interface endpoint's service
        or a host's metadata service. All of it, or nothing (a failure undoes the rest)."""
        built = await self._add_interface(vpc, eni, subnet.cidr, subnet.gateway_ip)
        try:
            if endpoint is not None:
                await self._serve_endpoint(built, endpoint)
            elif eni.owner == SAGEMAKER_REQUESTER:
                await self._serve_credentials(built)
            elif not eni.requester_managed:
                await self._serve_metadata(built)
        except BaseException:
            await self._remove_interface(vpc, built)
            raise
        return built

    async def _add_interface(
        self, vpc: _Vpc, eni: NetworkInterface, cidr: str, gateway: str
    ) -> _Interface:
        def build() -> _Interface:
            namespace = Namespace.create(eni.eni_id, self._owner)
            router_if = router_ifname(eni.eni_id)
            try:
                links.attach_host(
                    vpc.router, namespace, router_if=router_if,
                    addresses=[ipaddress.IPv4Address(ip) for ip in eni.private_ips],
                    prefix=ipaddress.ip_network(cidr).prefixlen,
                    gateway=ipaddress.IPv4Address(gateway), mac=eni.mac or None,
                )  # fmt: skip
            except BaseException:
                namespace.close()
                raise
            return _Interface(eni, namespace, router_if)

        return await asyncio.to_thread(build)

    async def _remove_interface(self, vpc: _Vpc, built: _Interface) -> None:
        for server in built.servers:
            server.close()

        def remove() -> None:
            with contextlib.suppress(Exception):
                links.detach_host(vpc.router, built.router_if)
            built.namespace.close()

        await asyncio.to_thread(remove)

    async def _serve_endpoint(self, built: _Interface, endpoint: VpcEndpoint) -> None:
        eni = built.eni
        sock = await asyncio.to_thread(
            built.namespace.socket, socket.AF_INET, socket.SOCK_STREAM, (eni.private_ip, HTTPS)
        )
        names = [e.dns_name for e in endpoint.dns_entries]
        service = self.store.catalog.get(endpoint.service_name)
        if service is not None:
            names += list(service.private_dns_names)
        tls = await asyncio.to_thread(self.authority.server_context, names, (eni.private_ip,))
        built.servers.append(await self.listeners.serve_endpoint(sock, tls, endpoint, eni))

    async def _converge_gateways(self, vpc: _Vpc, snapshot: VpcSnapshot) -> bool:
        """A listener of S3's per S3 gateway endpoint of the VPC, at a router address of
        its own (198.18.1.x); a deleted endpoint's goes. False if one could not be built:
        it is left out (its subnets reach no S3 meanwhile) and the rest of the VPC is
        built all the same."""
        wanted = {e.endpoint_id: e for e in snapshot.endpoints
                  if e.endpoint_type is EndpointType.GATEWAY and e.service_name.endswith(".s3")}
        for endpoint_id in [e for e in vpc.gateways if e not in wanted]:
            gone = vpc.gateways.pop(endpoint_id)
            gone.server.close()
            await asyncio.to_thread(links.remove_local_address, vpc.router,
                                    ipaddress.IPv4Address(gone.address))  # fmt: skip
        taken = {g.address for g in vpc.gateways.values()}
        built = True
        for endpoint_id, endpoint in wanted.items():
            if endpoint_id in vpc.gateways:
                continue
            address = next(a for n in range(1, 255) if (a := f"{GATEWAY_NET}.{n}") not in taken)
            try:
                server = await self._serve_gateway(vpc, endpoint, address)
            except Exception:
                log.exception("the listener of %s in %s failed", endpoint_id, vpc.vpc_id)
                built = False
                continue
            vpc.gateways[endpoint_id] = _Gateway(address, server)
            taken.add(address)
        return built

    async def _serve_gateway(self, vpc: _Vpc, endpoint: VpcEndpoint, address: str) -> Closable:
        """The gateway endpoint's listener at `address`, or nothing: a failure closes the
        socket (else its port stays taken for every retry) and removes the address."""
        ip = ipaddress.IPv4Address(address)
        made: list[socket.socket] = []

        def prepare() -> None:
            links.add_local_address(vpc.router, ip)
            made.append(vpc.router.socket(socket.AF_INET, socket.SOCK_STREAM, (address, HTTPS)))

        try:
            await asyncio.to_thread(prepare)
            return await self.listeners.serve_s3(
                made[0], await self._s3_tls(), vpc.vpc_id, endpoint
            )
        except BaseException:
            for sock in made:
                sock.close()
            with contextlib.suppress(Exception):  # (what is raised is the failure)
                await asyncio.to_thread(links.remove_local_address, vpc.router, ip)
            raise

    async def _s3_tls(self) -> ssl.SSLContext:
        """The certificate of S3's names, as S3's public endpoint presents it."""
        if self._s3_context is None:
            self._s3_context = await asyncio.to_thread(
                self.authority.server_context, s3_names(self.region), (S3_EDGE,)
            )
        return self._s3_context

    async def _serve_metadata(self, built: _Interface) -> None:
        sock = await asyncio.to_thread(_link_local_socket, built.namespace, METADATA_ADDRESS)
        built.servers.append(await self.listeners.serve_metadata(sock, built.eni))

    async def _serve_credentials(self, built: _Interface) -> None:
        sock = await asyncio.to_thread(_link_local_socket, built.namespace, CREDENTIALS_ADDRESS)
        built.servers.append(await self.listeners.serve_credentials(sock, built.eni))

    async def _settle_state(self, vpc: _Vpc, endpoint: VpcEndpoint) -> None:
        """A pending interface endpoint is `available` once every ENI of it answers TLS on
        443 from inside the VPC, as a client there would connect."""
        built = [vpc.interfaces[e] for e in endpoint.eni_ids if e in vpc.interfaces]
        if len(built) != len(endpoint.eni_ids):
            return  # some ENI is not built yet: a later pass looks again
        answers = await asyncio.gather(*(self._answers(vpc, b.eni.private_ip) for b in built))
        if not all(answers):
            self._retry(vpc.vpc_id)
            return
        # (deleted since the snapshot: the next pass takes its ENIs down)
        with contextlib.suppress(NetworkError):
            self.store.set_endpoint_state(endpoint.endpoint_id, EndpointState.AVAILABLE)

    async def _answers(self, vpc: _Vpc, address: str) -> bool:
        """A TLS handshake with the listener at `address`, from the router namespace."""

        context = self._probe_context()

        def probe() -> bool:
            # a socket made in the router stays there: connect from this thread
            raw = vpc.router.socket(socket.AF_INET, socket.SOCK_STREAM, ("0.0.0.0", 0),
                                    listen=False)  # fmt: skip
            with raw:
                raw.settimeout(PROBE_TIMEOUT)
                raw.connect((address, HTTPS))
                with context.wrap_socket(raw) as tls:
                    return tls.version() is not None

        try:
            return await asyncio.to_thread(probe)
        except OSError:
            return False

    def _probe_context(self) -> ssl.SSLContext:
        if self._probe_tls is None:
            self._probe_tls = ssl.create_default_context(cafile=str(self.authority.ca_path))
            self._probe_tls.check_hostname = False  # an ENI's address, not one of its names
        return self._probe_tls

    async def _tear_down(self, vpc_id: str) -> None:
        vpc = self._vpcs.pop(vpc_id, None)
        if vpc is not None:
            await self._close_vpc(vpc)

    async def _close_vpc(self, vpc: _Vpc) -> None:
        for built in vpc.interfaces.values():
            for server in built.servers:
                server.close()
        for gateway in vpc.gateways.values():
            gateway.server.close()
        for server in vpc.servers:
            server.close()
        if vpc.resolver is not None:
            vpc.resolver.close()

        def close_all() -> None:
            for built in vpc.interfaces.values():
                built.namespace.close()
            vpc.router.close()

        await asyncio.to_thread(close_all)


def _link_local_socket(namespace: Namespace, address: str) -> socket.socket:
    """A listening socket on port 80 of a link-local address of the ENI's own namespace."""
    links.add_local_address(namespace, ipaddress.IPv4Address(address))
    return namespace.socket(socket.AF_INET, socket.SOCK_STREAM, (address, 80))
