"""The listeners Cove serves inside VPC networks, on sockets the fabric made there:

- an interface endpoint's ENI (TLS on 443) reaches only its own service's front ends
  (a runtime endpoint answers InvokeEndpoint, not the SageMaker API), and its requests
  carry the endpoint, VPC, subnet and AZ they arrived through;
- a host's instance metadata service (plain HTTP on 169.254.169.254:80) reaches only the
  metadata service;
- a SageMaker instance's or job's container credentials endpoint (plain HTTP on
  169.254.170.2:80) reaches only the credentials service;
- the VPC's public edge (TLS on 443) is the public path: every service, as from outside
  (its requests carry the VPC they came from, for the cross-AZ delay only: policies see
  the public path);
- S3's public endpoint in the VPC (TLS on 443) serves S3 alone, on the public path, and
  so does an S3 gateway endpoint's listener, whose requests carry the endpoint (its
  policy applies, aws:SourceVpce is its id) and the VPC.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Mapping, Sequence

from cove.auth.credentials import CredentialStore
from cove.gateway.dispatch import Gateway
from cove.gateway.service import Service
from cove.http.connections import Connections
from cove.http.limits import HttpLimits
from cove.http.messages import Listener
from cove.http.server import serve_socket
from cove.network.resources import NetworkInterface, VpcEndpoint


class VpcListeners:
    def __init__(
        self,
        credentials: CredentialStore,
        by_endpoint_service: Mapping[str, Sequence[Service]],
        metadata: Service,
        limits: HttpLimits | None,
        connections: Connections | None = None,
        credentials_service: Service | None = None,
    ) -> None:
        self.public: Gateway | None = None  # the server's own gateway, set once it is made
        self.limits = limits
        # one count with the public listener's: VPC clients cannot take every descriptor
        self.connections = connections
        # service suffix (sagemaker.runtime, s3, ...) -> a gateway of its front ends only
        self.endpoint_gateways = {
            suffix: Gateway(credentials, services)
            for suffix, services in by_endpoint_service.items()
        }
        self.metadata = Gateway(credentials, [metadata])
        self.credentials = Gateway(credentials, [credentials_service] if credentials_service
                                   else [])  # fmt: skip

    async def serve_endpoint(
        self, sock: socket.socket, tls: ssl.SSLContext, endpoint: VpcEndpoint,
        eni: NetworkInterface,
    ) -> asyncio.Server:  # fmt: skip
        # com.amazonaws.<region>.<suffix>
        gateway = self.endpoint_gateways.get(endpoint.service_name.split(".", 3)[-1])
        if gateway is None:
            sock.close()
            raise LookupError(f"Cove serves no front end for {endpoint.service_name}")
        listener = Listener(
            kind="vpce", vpce_id=endpoint.endpoint_id, vpc_id=eni.vpc_id, tls=True,
            subnet_id=eni.subnet_id, az=eni.zone.name, interface_id=eni.eni_id,
        )  # fmt: skip
        return await serve_socket(gateway, sock, listener, self.limits, tls, self.connections)

    async def serve_metadata(self, sock: socket.socket, eni: NetworkInterface) -> asyncio.Server:
        listener = Listener(
            kind="imds", vpc_id=eni.vpc_id, subnet_id=eni.subnet_id, az=eni.zone.name,
            interface_id=eni.eni_id,
        )  # fmt: skip
        return await serve_socket(
            self.metadata, sock, listener, self.limits, None, self.connections
        )

    async def serve_credentials(self, sock: socket.socket, eni: NetworkInterface) -> asyncio.Server:
        listener = Listener(
            kind="credentials", vpc_id=eni.vpc_id, subnet_id=eni.subnet_id, az=eni.zone.name,
            interface_id=eni.eni_id,
        )  # fmt: skip
        return await serve_socket(
            self.credentials, sock, listener, self.limits, None, self.connections
        )

    async def serve_s3(
        self, sock: socket.socket, tls: ssl.SSLContext, vpc_id: str, gateway: VpcEndpoint | None
    ) -> asyncio.Server:
        listener = Listener(kind="public", tls=True, vpc_id=vpc_id)
        if gateway is not None:
            listener = Listener(kind="vpce", vpce_id=gateway.endpoint_id, vpc_id=vpc_id,
                                tls=True)  # fmt: skip
        return await serve_socket(
            self.endpoint_gateways["s3"], sock, listener, self.limits, tls, self.connections
        )

    async def serve_public(
        self, sock: socket.socket, tls: ssl.SSLContext, vpc_id: str
    ) -> asyncio.Server:
        assert self.public is not None, "the public gateway is set before VPCs are built"
        # the public path, over TLS: policies see aws:SecureTransport true
        listener = Listener(kind="public", tls=True, vpc_id=vpc_id)
        return await serve_socket(self.public, sock, listener, self.limits, tls, self.connections)
