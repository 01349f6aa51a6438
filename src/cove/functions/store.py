"""The account's functions in one region: versions (`$LATEST` and published ones),
aliases, resource policies and deployment packages, persisted in the metadata database
and the data dir. States follow Lambda's (Lambda DG, "Lambda function states"): a new
function is Pending until its package is unpacked (`settle`), then Active with
LastUpdateStatus Successful; an update is InProgress until settled, and another update or
a publish meanwhile is refused."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from cove.functions import tables as t
from cove.functions.contracts import FunctionSpec, FunctionVpc
from cove.functions.failures import Failure, FunctionError
from cove.functions.model import Alias, CodeRef, FunctionConfig, State, UpdateStatus, Version
from cove.functions.names import LATEST, Arns, FunctionRef, is_version
from cove.functions.packages import Packages
from cove.storage.db import metadata

v, a, s = t.versions_table, t.aliases_table, t.statements_table


def _revision() -> str:
    return str(uuid.uuid4())


def _version(row: Any) -> Version:
    return Version(
        row.name,
        row.version,
        FunctionConfig.from_json(row.config),
        CodeRef(row.code_key, row.code_sha256, row.code_size),
        State(row.state),
        UpdateStatus(row.update_status) if row.update_status else None,
        row.revision_id,
        row.last_modified,
    )


def _alias(row: Any) -> Alias:
    return Alias(
        row.name, row.alias, row.function_version, row.description, row.revision_id,
        json.loads(row.routing),
    )  # fmt: skip


READS_KEPT = 4096  # reads kept between writes, forgotten all at once beyond


class FunctionStore:
    def __init__(
        self,
        engine: Engine,
        packages: Packages,
        arns: Arns,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.packages = packages
        self.arns = arns
        self.clock = clock
        metadata.create_all(engine, tables=t.TABLES)
        # Reads an invocation makes (its version, alias and policy) kept until the next
        # write: the hot path reads no database. Bumped before and after every write, so
        # a read that raced one is never kept past it.
        self._generation = 0
        self._reads: dict[tuple[str, ...], tuple[int, Any]] = {}

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        self._generation += 1
        try:
            with self.engine.begin() as conn:
                yield conn
        finally:
            self._generation += 1
            self._reads.clear()

    def _kept(self, key: tuple[str, ...], read: Callable[[], Any]) -> Any:
        generation = self._generation
        held = self._reads.get(key)
        if held is not None and held[0] == generation:
            return held[1]
        value = read()
        if len(self._reads) >= READS_KEPT:
            self._reads.clear()
        self._reads[key] = (generation, value)
        return value

    # -- functions ----------------------------------------------------------------------

    def create(self, name: str, config: FunctionConfig, code: CodeRef) -> Version:
        now = self.clock()
        with self._write() as conn:
            if conn.execute(select(t.functions_table.c.name).where(
                t.functions_table.c.name == name
            )).first():  # fmt: skip
                raise FunctionError(Failure.FUNCTION_EXISTS, name=name)
            conn.execute(insert(t.functions_table).values(name=name, next_version=1, created=now))
            conn.execute(insert(v).values(
                name=name, version=LATEST, config=config.to_json(), code_key=code.key,
                code_sha256=code.sha256, code_size=code.size, state=State.PENDING.value,
                update_status=None, revision_id=_revision(), last_modified=now,
            ))  # fmt: skip
        return self.version(name, LATEST)

    def version(self, name: str, version: str) -> Version:
        return self._kept(("version", name, version), lambda: self._read_version(name, version))

    def _read_version(self, name: str, version: str) -> Version:
        with self.engine.connect() as conn:
            row = conn.execute(select(v).where(v.c.name == name, v.c.version == version)).first()
        if row is None:
            qualifier = None if version == LATEST else version
            raise FunctionError(Failure.FUNCTION_NOT_FOUND, arn=self.arns.function(name, qualifier))
        return _version(row)

    def resolve(self, ref: FunctionRef) -> tuple[Version, Alias | None]:
        """The version a reference names: an alias is followed to its version."""
        qualifier = ref.qualifier
        if qualifier is None or is_version(qualifier):
            latest = self.version(ref.name, LATEST)  # an unknown function, not version
            if qualifier in (None, LATEST):
                return latest, None
            return self.version(ref.name, qualifier), None
        self.version(ref.name, LATEST)
        alias = self.alias(ref.name, qualifier)
        return self.version(ref.name, alias.function_version), alias

    def list(
        self, marker: str | None, limit: int, all_versions: bool = False
    ) -> tuple[list[Version], str | None]:
        """Functions by name, `limit` at a time after `marker` (the last name given)."""
        names = select(t.functions_table.c.name).order_by(t.functions_table.c.name)
        if marker:
            names = names.where(t.functions_table.c.name > marker)
        with self.engine.connect() as conn:
            page = [r.name for r in conn.execute(names.limit(limit + 1))]
            chosen = page[:limit]
            query = select(v).where(v.c.name.in_(chosen))
            if not all_versions:
                query = query.where(v.c.version == LATEST)
            rows = [_version(r) for r in conn.execute(query)]
        rows.sort(key=lambda x: (x.name, _version_order(x.version)))
        return rows, (chosen[-1] if len(page) > limit else None)

    def versions(self, name: str) -> list[Version]:
        self.version(name, LATEST)
        with self.engine.connect() as conn:
            rows = [_version(r) for r in conn.execute(select(v).where(v.c.name == name))]
        return sorted(rows, key=lambda x: _version_order(x.version))

    def _changing(self, conn: Connection, name: str, revision_id: str | None) -> Version:
        """$LATEST, about to change: it must be settled, and at the revision asked for."""
        row = conn.execute(select(v).where(v.c.name == name, v.c.version == LATEST)).first()
        if row is None:
            raise FunctionError(Failure.FUNCTION_NOT_FOUND, arn=self.arns.function(name))
        latest = _version(row)
        if latest.state is State.PENDING:
            raise FunctionError(Failure.NOT_READY, state=latest.state.value)
        if latest.update_status is UpdateStatus.IN_PROGRESS:
            raise FunctionError(Failure.UPDATE_IN_PROGRESS, arn=self.arns.function(name))
        if revision_id is not None and revision_id != latest.revision_id:
            raise FunctionError(Failure.REVISION_MISMATCH)
        return latest

    def update_code(self, name: str, code: CodeRef, revision_id: str | None = None) -> Version:
        with self._write() as conn:
            self._changing(conn, name, revision_id)
            conn.execute(update(v).where(v.c.name == name, v.c.version == LATEST).values(
                code_key=code.key, code_sha256=code.sha256, code_size=code.size,
                update_status=UpdateStatus.IN_PROGRESS.value, revision_id=_revision(),
                last_modified=self.clock(),
            ))  # fmt: skip
        return self.version(name, LATEST)

    def update_config(
        self, name: str, changes: dict[str, Any], revision_id: str | None = None
    ) -> Version:
        """`changes`: FunctionConfig fields to replace."""
        with self._write() as conn:
            latest = self._changing(conn, name, revision_id)
            config = dataclasses.replace(latest.config, **changes)
            conn.execute(update(v).where(v.c.name == name, v.c.version == LATEST).values(
                config=config.to_json(), update_status=UpdateStatus.IN_PROGRESS.value,
                revision_id=_revision(), last_modified=self.clock(),
            ))  # fmt: skip
        return self.version(name, LATEST)

    def settle(self, name: str) -> None:
        """The package is unpacked and the configuration applied: Pending becomes Active
        and an update in progress Successful."""
        with self._write() as conn:
            conn.execute(update(v).where(v.c.name == name, v.c.state == State.PENDING.value)
                         .values(state=State.ACTIVE.value))  # fmt: skip
            conn.execute(update(v).where(
                v.c.name == name,
                (v.c.update_status == UpdateStatus.IN_PROGRESS.value) | v.c.update_status.is_(None),
            ).values(update_status=UpdateStatus.SUCCESSFUL.value))  # fmt: skip

    def unsettled(self) -> list[str]:
        """Functions whose creation or update had not completed (at a restart)."""
        query = (
            select(v.c.name)
            .distinct()
            .where(
                (v.c.state == State.PENDING.value)
                | (v.c.update_status == UpdateStatus.IN_PROGRESS.value)
            )
        )
        with self.engine.connect() as conn:
            return [r.name for r in conn.execute(query)]

    def delete(self, name: str, qualifier: str | None = None) -> None:
        if qualifier == LATEST:
            raise FunctionError(Failure.LATEST_NOT_DELETABLE)
        with self._write() as conn:
            if qualifier is None:
                found = conn.execute(delete(t.functions_table).where(
                    t.functions_table.c.name == name
                )).rowcount  # fmt: skip
                if not found:
                    raise FunctionError(Failure.FUNCTION_NOT_FOUND, arn=self.arns.function(name))
                for table in (v, a, s):
                    conn.execute(delete(table).where(table.c.name == name))
            else:
                if not is_version(qualifier):
                    raise FunctionError(Failure.INVALID_QUALIFIER, qualifier=qualifier)
                users = conn.execute(select(a.c.alias).where(
                    a.c.name == name, a.c.function_version == qualifier
                )).scalars().all()  # fmt: skip
                if users:
                    raise FunctionError(Failure.VERSION_IN_USE, aliases=", ".join(users))
                conn.execute(delete(v).where(v.c.name == name, v.c.version == qualifier))
                conn.execute(delete(s).where(s.c.name == name, s.c.qualifier == qualifier))
        self.collect_packages()

    def collect_packages(self) -> None:
        with self.engine.connect() as conn:
            keys = set(conn.execute(select(v.c.code_key).distinct()).scalars())
        self.packages.collect(keys)

    # -- versions -----------------------------------------------------------------------

    def publish(
        self, name: str, description: str | None = None, code_sha256: str | None = None,
        revision_id: str | None = None,
    ) -> Version:  # fmt: skip
        """A new version from $LATEST; none when neither code nor configuration changed
        since the last one, which is answered instead (Lambda API reference,
        PublishVersion)."""
        with self._write() as conn:
            latest = self._changing(conn, name, revision_id)
            if code_sha256 is not None and code_sha256 != latest.code.sha256:
                raise FunctionError(
                    Failure.SHA_MISMATCH, given=code_sha256, current=latest.code.sha256
                )
            newest = conn.execute(select(v).where(v.c.name == name, v.c.version != LATEST)
                                  .order_by(v.c.last_modified.desc())).first()  # fmt: skip
            if newest is not None:
                last = _version(newest)
                if (
                    last.code == latest.code
                    and dataclasses.replace(last.config, description=latest.config.description)
                    == latest.config
                ):
                    return last
            number = conn.execute(select(t.functions_table.c.next_version).where(
                t.functions_table.c.name == name
            )).scalar_one()  # fmt: skip
            conn.execute(update(t.functions_table).where(t.functions_table.c.name == name)
                         .values(next_version=number + 1))  # fmt: skip
            config = latest.config
            if description is not None:
                config = dataclasses.replace(config, description=description)
            conn.execute(insert(v).values(
                name=name, version=str(number), config=config.to_json(),
                code_key=latest.code.key, code_sha256=latest.code.sha256,
                code_size=latest.code.size, state=State.ACTIVE.value,
                update_status=UpdateStatus.SUCCESSFUL.value, revision_id=_revision(),
                last_modified=self.clock(),
            ))  # fmt: skip
        return self.version(name, str(number))

    # -- aliases ------------------------------------------------------------------------

    def alias(self, name: str, alias: str) -> Alias:
        return self._kept(("alias", name, alias), lambda: self._read_alias(name, alias))

    def _read_alias(self, name: str, alias: str) -> Alias:
        with self.engine.connect() as conn:
            row = conn.execute(select(a).where(a.c.name == name, a.c.alias == alias)).first()
        if row is None:
            raise FunctionError(Failure.ALIAS_NOT_FOUND, arn=self.arns.function(name, alias))
        return _alias(row)

    def aliases(self, name: str, version: str | None = None) -> list[Alias]:
        self.version(name, LATEST)
        query = select(a).where(a.c.name == name).order_by(a.c.alias)
        if version is not None:
            query = query.where(a.c.function_version == version)
        with self.engine.connect() as conn:
            return [_alias(r) for r in conn.execute(query)]

    def create_alias(
        self, name: str, alias: str, version: str, description: str = "",
        routing: dict[str, float] | None = None,
    ) -> Alias:  # fmt: skip
        self.version(name, version)
        self._check_routing(name, routing)
        with self._write() as conn:
            if conn.execute(select(a.c.alias).where(a.c.name == name, a.c.alias == alias)).first():
                raise FunctionError(Failure.ALIAS_EXISTS, arn=self.arns.function(name, alias))
            conn.execute(insert(a).values(
                name=name, alias=alias, function_version=version, description=description,
                routing=json.dumps(routing or {}), revision_id=_revision(),
            ))  # fmt: skip
        return self.alias(name, alias)

    def update_alias(
        self, name: str, alias: str, version: str | None = None, description: str | None = None,
        routing: dict[str, float] | None = None, revision_id: str | None = None,
    ) -> Alias:  # fmt: skip
        current = self.alias(name, alias)
        if revision_id is not None and revision_id != current.revision_id:
            raise FunctionError(Failure.REVISION_MISMATCH)
        if version is not None:
            self.version(name, version)
        self._check_routing(name, routing)
        values: dict[str, Any] = {"revision_id": _revision()}
        if version is not None:
            values["function_version"] = version
        if description is not None:
            values["description"] = description
        if routing is not None:
            values["routing"] = json.dumps(routing)
        with self._write() as conn:
            conn.execute(update(a).where(a.c.name == name, a.c.alias == alias).values(**values))
        return self.alias(name, alias)

    def delete_alias(self, name: str, alias: str) -> None:
        self.version(name, LATEST)
        with self._write() as conn:
            conn.execute(delete(a).where(a.c.name == name, a.c.alias == alias))
            conn.execute(delete(s).where(s.c.name == name, s.c.qualifier == alias))

    def _check_routing(self, name: str, routing: dict[str, float] | None) -> None:
        for weighted in routing or {}:
            self.version(name, weighted)

    # -- resource policies --------------------------------------------------------------

    def add_statement(self, ref: FunctionRef, sid: str, statement: dict[str, Any]) -> None:
        self.resolve(ref)
        qualifier = ref.qualifier or ""
        with self._write() as conn:
            key = (s.c.name == ref.name) & (s.c.qualifier == qualifier)
            if conn.execute(select(s.c.sid).where(key, s.c.sid == sid)).first():
                raise FunctionError(Failure.STATEMENT_EXISTS, sid=sid)
            position = conn.execute(select(func.count()).select_from(s).where(key)).scalar_one()
            conn.execute(insert(s).values(
                name=ref.name, qualifier=qualifier, sid=sid, statement=json.dumps(statement),
                position=position,
            ))  # fmt: skip
            self._bump(conn, ref)

    def remove_statement(self, ref: FunctionRef, sid: str) -> None:
        self.resolve(ref)
        with self._write() as conn:
            gone = conn.execute(delete(s).where(
                s.c.name == ref.name, s.c.qualifier == (ref.qualifier or ""), s.c.sid == sid
            )).rowcount  # fmt: skip
            if not gone:
                raise FunctionError(Failure.STATEMENT_NOT_FOUND, sid=sid)
            self._bump(conn, ref)

    def statements(self, ref: FunctionRef) -> list[dict[str, Any]]:
        """The statements of the policy of the function, version or alias `ref` names
        (each has its own), in the order they were added; [] without a policy."""
        query = select(s.c.statement).where(
            s.c.name == ref.name, s.c.qualifier == (ref.qualifier or "")
        ).order_by(s.c.position)  # fmt: skip

        def read() -> list[dict[str, Any]]:
            with self.engine.connect() as conn:
                return [json.loads(text) for text in conn.execute(query).scalars()]

        return list(self._kept(("statements", ref.name, ref.qualifier or ""), read))

    def _bump(self, conn: Connection, ref: FunctionRef) -> None:
        """A policy change is a new revision of what holds it."""
        qualifier = ref.qualifier
        if qualifier is not None and not is_version(qualifier):
            conn.execute(update(a).where(a.c.name == ref.name, a.c.alias == qualifier)
                         .values(revision_id=_revision()))  # fmt: skip
            return
        conn.execute(update(v).where(v.c.name == ref.name, v.c.version == (qualifier or LATEST))
                     .values(revision_id=_revision()))  # fmt: skip

    # -- what the runtime runs ----------------------------------------------------------

    def spec(self, version: Version) -> FunctionSpec:
        config = version.config
        return FunctionSpec(
            function_arn=self.arns.function(version.name),
            name=version.name,
            version=version.version,
            code_dir=self.packages.unpacked(version.code.key),
            handler=config.handler,
            runtime=config.runtime,
            memory_mb=config.memory_size,
            timeout_s=config.timeout,
            environment=dict(config.environment),
            role_arn=config.role,
            # workers are made anew for a new package or configuration
            code_sha256=f"{version.code.sha256}/{config.digest()}",
            vpc=_vpc_of(config),
        )


def _version_order(version: str) -> tuple[int, int]:
    return (0, 0) if version == LATEST else (1, int(version))


def _vpc_of(config: FunctionConfig) -> FunctionVpc | None:
    vpc = config.vpc
    if vpc is None or not vpc.subnet_ids:
        return None
    return FunctionVpc(tuple(vpc.subnet_ids), tuple(vpc.security_group_ids))
