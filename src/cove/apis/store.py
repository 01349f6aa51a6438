"""The account's REST APIs, persisted: their resource trees, methods, integrations and
responses, deployments and stages. Checks and messages are API Gateway's (see the tests
for the pages they come from)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any, TypeVar

from sqlalchemy import Engine, and_, delete, insert, select, update

from cove.apis import ids
from cove.apis.failures import bad_request, conflict, not_found
from cove.apis.method_settings import MethodSetting
from cove.apis.model import (
    Deployment,
    Integration,
    IntegrationResponse,
    Method,
    MethodResponse,
    Resource,
    RestApi,
    Stage,
)
from cove.apis.patch import Patch
from cove.apis.tables import (
    deployments_table,
    resources_table,
    rest_apis_table,
    stage_settings_table,
    stages_table,
)
from cove.apis.updates import RESOURCE

_PATH_PART = re.compile(r"^(\{[a-zA-Z0-9._-]+\+?\}|[a-zA-Z0-9._-]+)$")
_STAGE_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
PATH_PART_RULE = (
    "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the "
    "end and an optional plus sign before the closing brace."
)
STAGE_NAME_RULE = "Stage name only allows a-zA-Z0-9_"
T = TypeVar("T")


class ApiStore:
    def __init__(self, engine: Engine, region: str, account_id: str) -> None:
        self.engine = engine
        self.region = region
        self.account_id = account_id
        self._lock = threading.Lock()
        # (api id, stage name) -> what it serves: invoke URLs read this on every request,
        # and only this store writes stages, so it forgets them when it does
        self._served: dict[tuple[str, str], tuple[Stage, Deployment]] = {}

    # REST APIs

    def create_api(
        self,
        name: str,
        description: str = "",
        endpoint_types: tuple[str, ...] = ("EDGE",),
        binary_media_types: tuple[str, ...] = (),
        tags: dict[str, str] | None = None,
        disable_execute_api_endpoint: bool = False,
    ) -> RestApi:
        api = RestApi(
            ids.new_api_id(), name, description, time.time(), ids.new_id(10),
            endpoint_types, binary_media_types, dict(tags or {}), disable_execute_api_endpoint,
        )  # fmt: skip
        root = Resource(api.root_resource_id, None, "", "/")
        with self.engine.begin() as conn:
            conn.execute(
                insert(rest_apis_table).values(
                    api_id=api.id,
                    name=name,
                    description=description,
                    created=api.created,
                    root_resource_id=root.id,
                    endpoint_types=json.dumps(endpoint_types),
                    binary_media_types=json.dumps(binary_media_types),
                    tags=json.dumps(api.tags),
                    disable_execute_api_endpoint=disable_execute_api_endpoint,
                )  # fmt: skip
            )
            conn.execute(insert(resources_table).values(**_resource_row(api.id, root)))
        return api

    def apis(self) -> list[RestApi]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(rest_apis_table).order_by(rest_apis_table.c.created))
            return [_api(r._mapping) for r in rows]

    def api(self, api_id: str) -> RestApi:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(rest_apis_table).where(rest_apis_table.c.api_id == api_id)
            ).first()
        if row is None:
            raise not_found(f"Invalid API identifier specified {self.account_id}:{api_id}")
        return _api(row._mapping)

    def delete_api(self, api_id: str) -> None:
        self.api(api_id)
        with self.engine.begin() as conn:
            for table in (
                rest_apis_table, resources_table, deployments_table, stages_table,
                stage_settings_table,
            ):  # fmt: skip
                conn.execute(delete(table).where(table.c.api_id == api_id))
        self._forget(api_id)

    def update_api(self, api_id: str, change: Callable[[RestApi], RestApi]) -> RestApi:
        with self._lock:
            api = change(self.api(api_id))
            with self.engine.begin() as conn:
                conn.execute(
                    update(rest_apis_table)
                    .where(rest_apis_table.c.api_id == api_id)
                    .values(
                        name=api.name,
                        description=api.description,
                        endpoint_types=json.dumps(api.endpoint_types),
                        binary_media_types=json.dumps(api.binary_media_types),
                        disable_execute_api_endpoint=api.disable_execute_api_endpoint,
                    )
                )
        self._forget(api_id)  # proxy events carry the binary media types
        return api

    # resources

    def resources(self, api_id: str) -> list[Resource]:
        self.api(api_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(resources_table)
                .where(resources_table.c.api_id == api_id)
                .order_by(resources_table.c.path)
            )
            return [_resource(r._mapping) for r in rows]

    def resource(self, api_id: str, resource_id: str) -> Resource:
        self.api(api_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(resources_table).where(
                    resources_table.c.api_id == api_id,
                    resources_table.c.resource_id == resource_id,
                )
            ).first()
        if row is None:
            raise not_found("Invalid Resource identifier specified")
        return _resource(row._mapping)

    def create_resource(self, api_id: str, parent_id: str, path_part: str) -> Resource:
        if not _PATH_PART.match(path_part):
            raise bad_request(PATH_PART_RULE)
        with self._lock:
            parent = self.resource(api_id, parent_id)
            path = parent.path.rstrip("/") + "/" + path_part
            resource = Resource(ids.new_resource_id(), parent_id, path_part, path)
            siblings = [r for r in self.resources(api_id) if r.parent_id == parent_id]
            self._check_siblings(parent, resource, siblings)
            with self.engine.begin() as conn:
                conn.execute(insert(resources_table).values(**_resource_row(api_id, resource)))
        return resource

    def update_resource(self, api_id: str, resource_id: str, patches: list[Patch]) -> Resource:
        """A resource moved (`/parentId`) or renamed (`/pathPart`), its subtree's paths
        following; checked as CreateResource checks a new one, and never under itself."""
        with self._lock:
            api = self.api(api_id)
            before = self.resource(api_id, resource_id)
            if resource_id == api.root_resource_id:
                for patch in patches:
                    member = patch.path.lstrip("/")
                    if member in ("pathPart", "parentId"):
                        raise bad_request(f"Root resource cannot update its {member}.")
            after = RESOURCE.apply(before, patches)
            if not _PATH_PART.match(after.path_part):
                raise bad_request(PATH_PART_RULE)
            tree = {r.id: r for r in self.resources(api_id)}
            parent = tree.get(after.parent_id or "")
            if parent is None:
                raise not_found("Invalid Resource identifier specified")
            ancestor: Resource | None = parent
            while ancestor is not None:
                if ancestor.id == resource_id:
                    raise bad_request("Resources cannot be cyclical.")
                ancestor = tree.get(ancestor.parent_id or "")
            siblings = [r for r in tree.values() if r.parent_id == parent.id]
            self._check_siblings(parent, after, [r for r in siblings if r.id != resource_id])
            moved = replace(after, path=parent.path.rstrip("/") + "/" + after.path_part)
            changed = [moved, *_rebased(tree, moved)]
            with self.engine.begin() as conn:
                for resource in changed:
                    conn.execute(
                        update(resources_table)
                        .where(
                            resources_table.c.api_id == api_id,
                            resources_table.c.resource_id == resource.id,
                        )
                        .values(
                            parent_id=resource.parent_id, path_part=resource.path_part,
                            path=resource.path,
                        )  # fmt: skip
                    )
        return moved

    @staticmethod
    def _check_siblings(parent: Resource, resource: Resource, siblings: list[Resource]) -> None:
        if parent.is_greedy:
            raise bad_request(
                f"Cannot create a child of a resource with a greedy path variable: "
                f"{parent.path_part}"
            )
        for sibling in siblings:
            if sibling.path_part == resource.path_part:
                raise conflict(
                    f"Another resource with the same parent already has this name: "
                    f"{resource.path_part}"
                )
            if sibling.variable is not None and resource.path_part.startswith("{"):
                raise bad_request(
                    f"A sibling ({sibling.path_part}) of this resource already has a "
                    f"variable path part -- only one is allowed"
                )

    def delete_resource(self, api_id: str, resource_id: str) -> None:
        """The resource and everything under it."""
        api = self.api(api_id)
        if resource_id == api.root_resource_id:
            raise bad_request("Cannot delete the root resource")
        self.resource(api_id, resource_id)
        tree = self.resources(api_id)
        doomed = {resource_id}
        while True:
            more = {r.id for r in tree if r.parent_id in doomed} - doomed
            if not more:
                break
            doomed |= more
        with self.engine.begin() as conn:
            conn.execute(
                delete(resources_table).where(
                    resources_table.c.api_id == api_id,
                    resources_table.c.resource_id.in_(doomed),
                )
            )

    # methods, integrations and their responses

    def put_method(self, api_id: str, resource_id: str, method: Method) -> Method:
        def put(resource: Resource) -> Method:
            if method.http_method in resource.methods:
                raise conflict("Method already exists for this resource")
            resource.methods[method.http_method] = method
            return method

        return self._change(api_id, resource_id, put)

    def method(self, api_id: str, resource_id: str, http_method: str) -> Method:
        return _method_of(self.resource(api_id, resource_id), http_method)

    def delete_method(self, api_id: str, resource_id: str, http_method: str) -> None:
        def drop(resource: Resource) -> None:
            _method_of(resource, http_method)
            del resource.methods[http_method]

        self._change(api_id, resource_id, drop)

    def update_method(
        self, api_id: str, resource_id: str, http_method: str, change: Callable[[Method], Method]
    ) -> Method:
        def apply(resource: Resource) -> Method:
            updated = change(_method_of(resource, http_method))
            resource.methods[http_method] = updated
            return updated

        return self._change(api_id, resource_id, apply)

    def update_integration(
        self,
        api_id: str,
        resource_id: str,
        http_method: str,
        change: Callable[[Integration], Integration],
    ) -> Integration:
        def apply(method: Method) -> Method:
            return replace(method, integration=change(_integration_of(method)))

        updated = self.update_method(api_id, resource_id, http_method, apply)
        assert updated.integration is not None
        return updated.integration

    def update_method_response(
        self,
        api_id: str,
        resource_id: str,
        http_method: str,
        status_code: str,
        change: Callable[[MethodResponse], MethodResponse],
    ) -> MethodResponse:
        def apply(method: Method) -> Method:
            found = method.responses.get(status_code)
            if found is None:
                raise not_found("Invalid Response status code specified")
            return replace(method, responses={**method.responses, status_code: change(found)})

        return self.update_method(api_id, resource_id, http_method, apply).responses[status_code]

    def update_integration_response(
        self,
        api_id: str,
        resource_id: str,
        http_method: str,
        status_code: str,
        change: Callable[[IntegrationResponse], IntegrationResponse],
    ) -> IntegrationResponse:
        def apply(integration: Integration) -> Integration:
            found = integration.responses.get(status_code)
            if found is None:
                raise not_found("Invalid Response status code specified")
            return replace(
                integration, responses={**integration.responses, status_code: change(found)}
            )

        updated = self.update_integration(api_id, resource_id, http_method, apply)
        return updated.responses[status_code]

    def put_integration(
        self, api_id: str, resource_id: str, http_method: str, integration: Integration
    ) -> Integration:
        def put(resource: Resource) -> Integration:
            _method_of(resource, http_method).integration = integration
            return integration

        return self._change(api_id, resource_id, put)

    def integration(self, api_id: str, resource_id: str, http_method: str) -> Integration:
        return _integration_of(self.method(api_id, resource_id, http_method))

    def put_method_response(
        self, api_id: str, resource_id: str, http_method: str, response: MethodResponse
    ) -> MethodResponse:
        def put(resource: Resource) -> MethodResponse:
            _method_of(resource, http_method).responses[response.status_code] = response
            return response

        return self._change(api_id, resource_id, put)

    def method_response(
        self, api_id: str, resource_id: str, http_method: str, status_code: str
    ) -> MethodResponse:
        found = self.method(api_id, resource_id, http_method).responses.get(status_code)
        if found is None:
            raise not_found("Invalid Response status code specified")
        return found

    def put_integration_response(
        self, api_id: str, resource_id: str, http_method: str, response: IntegrationResponse
    ) -> IntegrationResponse:
        def put(resource: Resource) -> IntegrationResponse:
            method = _method_of(resource, http_method)
            integration = _integration_of(method)
            if response.status_code not in method.responses:
                raise not_found("Invalid Response status code specified")
            integration.responses[response.status_code] = response
            return response

        return self._change(api_id, resource_id, put)

    def integration_response(
        self, api_id: str, resource_id: str, http_method: str, status_code: str
    ) -> IntegrationResponse:
        integration = self.integration(api_id, resource_id, http_method)
        found = integration.responses.get(status_code)
        if found is None:
            raise not_found("Invalid Response status code specified")
        return found

    # deployments and stages

    def create_deployment(
        self,
        api_id: str,
        description: str = "",
        stage_name: str | None = None,
        stage_description: str = "",
        variables: dict[str, str] | None = None,
    ) -> Deployment:
        if stage_name is not None and not _STAGE_NAME.match(stage_name):
            raise bad_request(STAGE_NAME_RULE)
        resources = tuple(self.resources(api_id))
        methods = [m for r in resources for m in r.methods.values()]
        if not methods:
            raise bad_request("The REST API doesn't contain any methods")
        if any(m.integration is None for m in methods):
            raise bad_request("No integration defined for method")
        deployment = Deployment(
            api_id, ids.new_deployment_id(), description, time.time(), resources
        )
        with self.engine.begin() as conn:
            conn.execute(
                insert(deployments_table).values(
                    api_id=api_id,
                    deployment_id=deployment.id,
                    description=description,
                    created=deployment.created,
                    resources=json.dumps([r.dump() for r in resources]),
                )  # fmt: skip
            )
        if stage_name is not None:
            self._point_stage(api_id, stage_name, deployment.id, stage_description, variables)
        return deployment

    def deployments(self, api_id: str) -> list[Deployment]:
        self.api(api_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(deployments_table)
                .where(deployments_table.c.api_id == api_id)
                .order_by(deployments_table.c.created)
            )
            return [_deployment(r._mapping) for r in rows]

    def deployment(self, api_id: str, deployment_id: str) -> Deployment:
        self.api(api_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(deployments_table).where(
                    deployments_table.c.api_id == api_id,
                    deployments_table.c.deployment_id == deployment_id,
                )
            ).first()
        if row is None:
            raise not_found("Invalid Deployment identifier specified")
        return _deployment(row._mapping)

    def update_deployment(
        self, api_id: str, deployment_id: str, change: Callable[[Deployment], Deployment]
    ) -> Deployment:
        with self._lock:
            updated = change(self.deployment(api_id, deployment_id))
            with self.engine.begin() as conn:
                conn.execute(
                    update(deployments_table)
                    .where(
                        deployments_table.c.api_id == api_id,
                        deployments_table.c.deployment_id == deployment_id,
                    )
                    .values(description=updated.description)
                )
        return updated

    def create_stage(
        self,
        api_id: str,
        stage_name: str,
        deployment_id: str,
        description: str = "",
        variables: dict[str, str] | None = None,
    ) -> Stage:
        if not _STAGE_NAME.match(stage_name):
            raise bad_request(STAGE_NAME_RULE)
        self.deployment(api_id, deployment_id)
        if self._stage_row(api_id, stage_name) is not None:
            raise conflict("Stage already exists")
        return self._point_stage(api_id, stage_name, deployment_id, description, variables)

    def stages(self, api_id: str) -> list[Stage]:
        self.api(api_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(stages_table)
                .where(stages_table.c.api_id == api_id)
                .order_by(stages_table.c.created)
            ).all()
            settings = {
                r.stage_name: r._mapping
                for r in conn.execute(
                    select(stage_settings_table).where(stage_settings_table.c.api_id == api_id)
                )
            }
        return [_stage(r._mapping, settings.get(r.stage_name)) for r in rows]

    def stage(self, api_id: str, stage_name: str) -> Stage:
        self.api(api_id)
        found = self._stage_row(api_id, stage_name)
        if found is None:
            raise not_found("Invalid stage identifier specified")
        return found

    def update_stage(self, api_id: str, stage_name: str, change: Callable[[Stage], Stage]) -> Stage:
        with self._lock:
            stage = change(self.stage(api_id, stage_name))
            with self.engine.begin() as conn:
                conn.execute(
                    update(stages_table)
                    .where(stages_table.c.api_id == api_id, stages_table.c.stage_name == stage_name)
                    .values(
                        deployment_id=stage.deployment_id, description=stage.description,
                        variables=json.dumps(stage.variables), updated=time.time(),
                    )  # fmt: skip
                )
                conn.execute(delete(stage_settings_table).where(_settings_of(api_id, stage_name)))
                conn.execute(
                    insert(stage_settings_table).values(
                        api_id=api_id, stage_name=stage_name,
                        method_settings=json.dumps(
                            {k: v.dump() for k, v in stage.method_settings.items()}
                        ),
                        tracing_enabled=stage.tracing_enabled,
                    )  # fmt: skip
                )
        self._forget(api_id)
        return self.stage(api_id, stage_name)

    def delete_stage(self, api_id: str, stage_name: str) -> None:
        self.stage(api_id, stage_name)
        with self.engine.begin() as conn:
            conn.execute(
                delete(stages_table).where(
                    stages_table.c.api_id == api_id, stages_table.c.stage_name == stage_name
                )
            )
            conn.execute(delete(stage_settings_table).where(_settings_of(api_id, stage_name)))
        self._forget(api_id)

    def served(self, api_id: str, stage_name: str) -> tuple[Stage, Deployment] | None:
        """What a stage's invoke URL serves now; None when there is no such API or stage."""
        key = (api_id, stage_name)
        known = self._served.get(key)
        if known is not None:
            return known
        stage = self._stage_row(api_id, stage_name)
        if stage is None:
            return None
        served = (stage, self.deployment(api_id, stage.deployment_id))
        self._served[key] = served
        return served

    # helpers

    def _point_stage(
        self,
        api_id: str,
        stage_name: str,
        deployment_id: str,
        description: str,
        variables: dict[str, str] | None,
    ) -> Stage:
        """Create the stage, or point it at another deployment (CreateDeployment does)."""
        now = time.time()
        existing = self._stage_row(api_id, stage_name)
        with self.engine.begin() as conn:
            if existing is None:
                conn.execute(
                    insert(stages_table).values(
                        api_id=api_id,
                        stage_name=stage_name,
                        deployment_id=deployment_id,
                        description=description,
                        created=now,
                        updated=now,
                        variables=json.dumps(variables or {}),
                    )  # fmt: skip
                )
            else:
                changes: dict[str, Any] = {"deployment_id": deployment_id, "updated": now}
                if variables is not None:
                    changes["variables"] = json.dumps({**existing.variables, **variables})
                conn.execute(
                    update(stages_table)
                    .where(stages_table.c.api_id == api_id, stages_table.c.stage_name == stage_name)
                    .values(**changes)
                )
        self._forget(api_id)
        found = self._stage_row(api_id, stage_name)
        assert found is not None
        return found

    def _stage_row(self, api_id: str, stage_name: str) -> Stage | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(stages_table).where(
                    stages_table.c.api_id == api_id, stages_table.c.stage_name == stage_name
                )
            ).first()
            settings = conn.execute(
                select(stage_settings_table).where(_settings_of(api_id, stage_name))
            ).first()
        if row is None:
            return None
        return _stage(row._mapping, None if settings is None else settings._mapping)

    def _forget(self, api_id: str) -> None:
        for key in [k for k in self._served if k[0] == api_id]:
            self._served.pop(key, None)

    def _change(self, api_id: str, resource_id: str, change: Callable[[Resource], T]) -> T:
        """Read a resource, change its methods, write it back (one writer at a time)."""
        with self._lock:
            resource = self.resource(api_id, resource_id)
            result = change(resource)
            methods = json.dumps({k: _dump_method(m) for k, m in resource.methods.items()})
            with self.engine.begin() as conn:
                conn.execute(
                    update(resources_table)
                    .where(
                        resources_table.c.api_id == api_id,
                        resources_table.c.resource_id == resource_id,
                    )
                    .values(methods=methods)
                )
        return result


def _method_of(resource: Resource, http_method: str) -> Method:
    found = resource.methods.get(http_method)
    if found is None:
        raise not_found("Invalid Method identifier specified")
    return found


def _integration_of(method: Method) -> Integration:
    if method.integration is None:
        raise not_found("Invalid Integration identifier specified")
    return method.integration


def _dump_method(method: Method) -> dict[str, Any]:
    return asdict(method)


def _resource_row(api_id: str, resource: Resource) -> dict[str, Any]:
    return {
        "api_id": api_id,
        "resource_id": resource.id,
        "parent_id": resource.parent_id,
        "path_part": resource.path_part,
        "path": resource.path,
        "methods": json.dumps({k: _dump_method(m) for k, m in resource.methods.items()}),
    }


def _resource(row: Any) -> Resource:
    methods = {k: Method.load(v) for k, v in json.loads(row["methods"]).items()}
    return Resource(row["resource_id"], row["parent_id"], row["path_part"], row["path"], methods)


def _api(row: Any) -> RestApi:
    return RestApi(
        row["api_id"], row["name"], row["description"], row["created"],
        row["root_resource_id"], tuple(json.loads(row["endpoint_types"])),
        tuple(json.loads(row["binary_media_types"])), json.loads(row["tags"]),
        bool(row["disable_execute_api_endpoint"]),
    )  # fmt: skip


def _deployment(row: Any) -> Deployment:
    resources = tuple(Resource.load(r) for r in json.loads(row["resources"]))
    return Deployment(
        row["api_id"], row["deployment_id"], row["description"], row["created"], resources
    )


def _settings_of(api_id: str, stage_name: str) -> Any:
    """The condition that picks a stage's settings row."""
    t = stage_settings_table.c
    return and_(t.api_id == api_id, t.stage_name == stage_name)


def _stage(row: Any, settings: Any = None) -> Stage:
    method_settings: dict[str, MethodSetting] = {}
    tracing = False
    if settings is not None:
        loaded = json.loads(settings["method_settings"])
        method_settings = {k: MethodSetting.load(v) for k, v in loaded.items()}
        tracing = bool(settings["tracing_enabled"])
    return Stage(
        row["api_id"], row["stage_name"], row["deployment_id"], row["description"],
        row["created"], row["updated"], json.loads(row["variables"]), method_settings, tracing,
    )  # fmt: skip


def _rebased(tree: dict[str, Resource], moved: Resource) -> list[Resource]:
    """The moved resource's descendants with their paths under its new one."""
    out: list[Resource] = []
    parents = {moved.id: moved}
    pending = [r for r in tree.values() if r.parent_id == moved.id]
    while pending:
        child = pending.pop()
        parent = parents[child.parent_id or ""]
        rebased = replace(child, path=parent.path.rstrip("/") + "/" + child.path_part)
        parents[child.id] = rebased
        out.append(rebased)
        pending += [r for r in tree.values() if r.parent_id == child.id]
    return out
