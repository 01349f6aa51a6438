"""Process wiring: build every component on the data dir, listen, and shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from dataclasses import dataclass, field

import uvloop
from sqlalchemy import Engine

from cove.apis.account import AccountSettings
from cove.apis.engine import ApiEngine
from cove.apis.store import ApiStore
from cove.auth.credentials import CredentialStore, load_or_create_admin
from cove.config import CA_DIR, PORT_FILE, Settings
from cove.control.plane import ControlPlane, build_control_plane
from cove.functions.names import Arns
from cove.functions.packages import PACKAGES_DIR, Packages
from cove.functions.runtime.runtime import SandboxedRuntime
from cove.functions.store import FunctionStore
from cove.gateway.dispatch import Gateway, Service
from cove.gateway.vpc_listeners import VpcListeners
from cove.heap import freeze_startup_heap
from cove.host.confinement import Confinement
from cove.host.limits import raise_open_files_limit
from cove.http.connections import Connections
from cove.http.limits import HttpLimits
from cove.http.messages import PUBLIC_LISTENER
from cove.http.server import serve_tcp
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.identity.key_usage import KeyUsage
from cove.identity.vending import CredentialVending, RoleCredentials
from cove.network.attachments import Attachments
from cove.network.caller_zones import CallerZones
from cove.network.fabric import Fabric
from cove.network.sagemaker_hosts import SageMakerHosts
from cove.network.store import NetworkStore
from cove.pki.authority import CertificateAuthority
from cove.runtime.manager import LocalRuntime
from cove.runtime.placement import RegionZones
from cove.runtime.vpc import SubnetZones
from cove.services.apigateway.invoke import InvokeService
from cove.services.apigateway.service import apigateway_service
from cove.services.credentials import CredentialsService
from cove.services.ec2.service import ec2_service
from cove.services.hosts import HostRegistry, HostsService
from cove.services.iam.service import iam_service
from cove.services.imds import MetadataService
from cove.services.lambda_.code_location import CodeLocationService, CodeUrls
from cove.services.lambda_.networks import FunctionEnis
from cove.services.lambda_.service import LambdaService, lambda_service
from cove.services.logs.service import logs_service
from cove.services.metrics import MetricsService
from cove.services.s3.service import S3Service
from cove.services.sagemaker.passed_roles import PassedRoles
from cove.services.sagemaker.service import sagemaker_service
from cove.services.sagemaker_runtime.service import RuntimeService
from cove.services.sts.service import sts_service
from cove.storage.artifacts import ArtifactStore
from cove.storage.data_dir import DataDirClaim, claim
from cove.storage.db import open_engine
from cove.storage.log_events import LogEvents
from cove.storage.resources import ResourceStore
from cove.storage.s3.objects import ObjectStore

log = logging.getLogger("cove.server")


class EndpointPolicyNotices:
    """The network store's change notices, passed on to the policy engine's caches only
    when a VPC's endpoint policies changed (an endpoint made, modified or deleted)."""

    def __init__(self, network: NetworkStore, access: Access) -> None:
        self.network = network
        self.access = access
        self._seen: dict[str, dict[str, str]] = {}

    def __call__(self, vpc_id: str) -> None:
        policies = {e.endpoint_id: e.policy_document for e in self.network.endpoints()
                    if e.vpc_id == vpc_id}  # fmt: skip
        if self._seen.get(vpc_id) != policies:
            self._seen[vpc_id] = policies
            self.access.policies_changed()


@dataclass
class Subsystems:
    """What the server starts after its listener and stops at shutdown."""

    objects: ObjectStore
    artifacts: ArtifactStore
    confinement: Confinement
    runtime: LocalRuntime
    control: ControlPlane
    logs: LogEvents  # CloudWatch Logs: functions' and API Gateway's logs (a LogSink)


@dataclass
class Cove:
    """Every long-lived component of one running server."""

    settings: Settings
    engine: Engine
    resources: ResourceStore
    credentials: CredentialStore
    claim: DataDirClaim
    subsystems: Subsystems
    network: NetworkStore
    fabric: Fabric
    hosts: HostsService
    function_enis: FunctionEnis
    sagemaker_hosts: SageMakerHosts
    listeners: VpcListeners
    gateway: Gateway
    key_usage: KeyUsage  # access keys' last use, written every few seconds
    services: list[Service] = field(default_factory=list)
    lambda_api: LambdaService | None = None


def build(settings: Settings) -> Cove:
    claimed = claim(settings.data_dir)  # before anything in it is read or written
    engine = open_engine(settings.db_url)
    credentials = CredentialStore(settings.account_id)
    credentials.add_admin(*load_or_create_admin(settings.data_dir))
    resources = ResourceStore(engine)
    directory = Directory(engine, settings.account_id, credentials)  # keys sign in at once
    network = NetworkStore(engine, settings.region, settings.account_id)
    # every service authorizes against the account's policies, and the VPC endpoints'
    access = Access(directory, network)
    network.subscribe(EndpointPolicyNotices(network, access))
    vending = CredentialVending(directory, settings.public_url, settings.region)
    subsystems = _build_subsystems(settings, engine, resources, vending, network)
    runtime = RuntimeService(
        settings, subsystems.runtime, resources, access, CallerZones(network),
        subsystems.control.context.tags,
    )  # fmt: skip
    sagemaker = sagemaker_service(
        subsystems.control.context, access, PassedRoles(access)
    )
    sts = sts_service(directory, access)
    s3 = S3Service(subsystems.objects, credentials, access, directory)
    ec2 = ec2_service(network, access)
    apis = ApiStore(engine, settings.region, settings.account_id)
    authority = CertificateAuthority.load_or_create(settings.data_dir / CA_DIR)
    hosts_registry = HostRegistry({})
    limits = http_limits(settings).within_fds()
    connections = Connections(limits)  # the public listener's and every VPC listener's
    role_credentials = CredentialsService(vending)
    listeners = VpcListeners(credentials, {
        "sagemaker.runtime": [runtime], "sagemaker.api": [sagemaker], "sts": [sts], "s3": [s3],
    }, MetadataService(hosts_registry, vending.credentials, settings.region,
                       settings.account_id), limits, connections, role_credentials)  # fmt: skip
    fabric = Fabric(network, listeners, authority, settings.region)
    attachments = Attachments(network, fabric, authority.ca_path)
    function_enis = FunctionEnis(attachments)
    sagemaker_hosts = SageMakerHosts(attachments)
    subsystems.runtime.use_networks(sagemaker_hosts)  # endpoints' instances, and
    subsystems.control.context.hosts = sagemaker_hosts  # jobs', in their subnets
    function_runtime = SandboxedRuntime.from_settings(
        settings, subsystems.confinement, vending, subsystems.logs, function_enis
    )
    hosts = HostsService(
        network, fabric, access, vending, hosts_registry, settings.region
    )
    arns = Arns(settings.region, settings.account_id)
    functions = FunctionStore(engine, Packages(settings.data_dir / PACKAGES_DIR), arns)

    code_urls = CodeUrls.load(
        settings.data_dir, settings.region, settings.account_id,
        f"{settings.host}:{settings.port}",
    )  # fmt: skip
    lambda_api = lambda_service(
        functions, directory, access, network, subsystems.objects, function_runtime, code_urls
    )
    # API Gateway's Lambda integrations invoke as apigateway.amazonaws.com
    engine_of_apis = ApiEngine(apis, lambda_api.invoker, logs=subsystems.logs)
    # Routed by signing name (see Gateway.route); within one, registration order decides,
    # so S3, which claims whatever reaches it, comes last.
    services: list[Service] = [
        # invoke URLs by their Host header (or /_cove/execute-api/), before any path-routed
        # API; cove exec's hosts at /_cove/hosts
        InvokeService(engine_of_apis, credentials, access), hosts,
        # GetFunction's Code.Location URLs, signed with a key only this service knows
        CodeLocationService(code_urls, functions.packages),
        runtime, sagemaker, MetricsService(subsystems.runtime), role_credentials,
        iam_service(directory, access), sts, ec2, apigateway_service(
            apis, AccountSettings(engine, settings.account_id), access,
        ),
        logs_service(subsystems.logs, access, settings.region, settings.account_id),
        lambda_api, s3,
    ]  # fmt: skip
    gateway = Gateway(credentials, services)
    # The edge inside VPC networks is the public path, but not S3's: S3 has an address of
    # its own there, which the route table sends to the internet gateway or through an S3
    # gateway endpoint (whose policy a request to the edge would otherwise escape). Nor
    # Cove's own host control, which `cove exec` reaches on loopback.
    listeners.public = Gateway(credentials, [s for s in services if s is not s3 and s is not hosts])
    return Cove(
        settings, engine, resources, credentials, claimed, subsystems, network, fabric, hosts,
        function_enis, sagemaker_hosts, listeners, gateway, directory.key_usage, services,
        lambda_api,
    )  # fmt: skip


def _build_subsystems(
    settings: Settings,
    engine: Engine,
    resources: ResourceStore,
    credentials: RoleCredentials,
    network: NetworkStore,
) -> Subsystems:
    """Storage first, then the data plane, then the control plane that drives it."""
    objects = ObjectStore(settings.data_dir / "objects", engine)
    artifacts = ArtifactStore(settings, objects)
    confinement = Confinement.for_server(settings.data_dir)
    # each instance's AZ: spread over its model's subnets' AZs, or else the region's
    placement = SubnetZones(network, RegionZones(settings.region))
    runtime = LocalRuntime(settings, artifacts, confinement, credentials, placement)
    control = build_control_plane(
        settings, resources, runtime, artifacts, confinement, credentials, network
    )
    return Subsystems(
        objects, artifacts, confinement, runtime, control, LogEvents(settings.data_dir)
    )


def http_limits(settings: Settings) -> HttpLimits:
    """The client-connection limits of the HTTP layer, from the settings."""
    return HttpLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        idle_timeout=settings.idle_timeout,
        max_connections_per_client=settings.max_connections_per_client,
        max_connections=settings.max_connections,
    )


async def serve(settings: Settings, ready: asyncio.Event | None = None) -> None:
    cove = build(settings)
    gateway = cove.gateway
    runtime, control = cove.subsystems.runtime, cove.subsystems.control
    cove.hosts.forget_stale()  # `cove exec` hosts end with their server
    cove.function_enis.forget_stale()  # and functions' ENIs (workers make them anew)
    cove.sagemaker_hosts.find_stale()  # instances' ENIs: adopted again as they come back
    await cove.fabric.start()  # every VPC built, its endpoints answering, before any request
    server = await serve_tcp(
        gateway, settings.host, settings.port, PUBLIC_LISTENER, cove.listeners.limits,
        cove.listeners.connections,
    )  # fmt: skip
    # `cove env` reads where the server listens from here.
    (settings.data_dir / PORT_FILE).write_text(f"{settings.public_url}\n")
    await control.start()  # reconcile: bring back what was InService before a restart
    await cove.sagemaker_hosts.release_unclaimed()  # ENIs no instance came back to
    reaper = asyncio.create_task(cove.hosts.reap(), name="hosts-reaper")
    flusher = asyncio.create_task(cove.key_usage.flush_every(), name="key-usage-flusher")
    if cove.lambda_api is not None:
        await cove.lambda_api.lc.recover()  # functions a stop left Pending or InProgress
    log.info("Cove listening on %s (data dir %s)", settings.public_url, settings.data_dir)
    freeze_startup_heap()
    print(f"Cove is serving on {settings.public_url} (data dir {settings.data_dir})", flush=True)
    if ready is not None:
        ready.set()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        server.close()
        reaper.cancel()
        flusher.cancel()
        await cove.hosts.end_all()
        if cove.lambda_api is not None:
            await cove.lambda_api.lc.stop()
            if cove.lambda_api.lc.runtime is not None:
                await cove.lambda_api.lc.runtime.shutdown()
        # instances and jobs in VPCs run inside the fabric's namespaces: they drain first
        await control.stop()
        await runtime.shutdown()
        await cove.fabric.stop()
        cove.subsystems.confinement.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)
        try:
            cove.key_usage.flush()  # the uses since the last flush
        except Exception:
            log.exception("could not write access keys' last use")
        cove.engine.dispose()
        cove.subsystems.logs.close()
        cove.claim.release()
        print("Cove stopped", flush=True)


def run(settings: Settings) -> None:
    logging.basicConfig(
        level=os.environ.get("COVE_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    raise_open_files_limit()  # before the HTTP layer sizes its connection cap from it
    uvloop.run(serve(settings))
