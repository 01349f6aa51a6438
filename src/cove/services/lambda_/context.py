"""What the Lambda handlers share: the function store, the account's identities (roles
passed to functions), the network (VpcConfig), the object store (code from S3), the
function runtime, the signer of Code.Location URLs, and the background work of settling
new functions."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from cove.functions.contracts import FunctionRuntime
from cove.functions.names import LATEST, Arns
from cove.functions.store import FunctionStore
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.network.store import NetworkStore
from cove.services.lambda_.code_location import CodeUrls
from cove.storage.s3.objects import ObjectStore

log = logging.getLogger("cove.lambda")

# Functions run on the interpreter Cove runs on: its runtime is the one Lambda names so.
SUPPORTED_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


@dataclass
class LambdaContext:
    store: FunctionStore
    directory: Directory
    access: Access
    network: NetworkStore
    objects: ObjectStore
    # None only where no runtime was wired (Invoke then answers ServiceException)
    runtime: FunctionRuntime | None
    code_urls: CodeUrls  # GetFunction's Code.Location
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def arns(self) -> Arns:
        return self.store.arns

    def background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` past the request, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    async def settle(self, name: str) -> None:
        """Unpack $LATEST's package, retire the workers of what changed, then report
        the function Active (Successful for an update)."""
        latest = self.store.version(name, LATEST)
        await asyncio.to_thread(self.store.packages.unpacked, latest.code.key)
        if self.runtime is not None:
            await self.runtime.retire(self.arns.function(name))
        self.store.settle(name)

    async def recover(self) -> None:
        """At start: settle what a stopped server left Pending or InProgress."""
        for name in self.store.unsettled():
            await self.settle(name)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
