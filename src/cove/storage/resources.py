"""Control-plane resources (models, endpoints, jobs, ...) as JSON documents keyed by kind
and case-insensitive name, the way SageMaker treats names. Whoever keeps a view of them in
memory (the tags authorization reads) subscribes to hear which ARN changed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from cove.storage.db import metadata

resources_table = Table(
    "resources",
    metadata,
    Column("kind", String(64), primary_key=True),
    Column("key", String(256), primary_key=True),  # lower-cased name
    Column("name", String(256), nullable=False),
    Column("arn", String(512), nullable=False),
    Column("status", String(64)),
    Column("created", Float, nullable=False),
    Column("modified", Float, nullable=False),
    Column("doc", Text, nullable=False),
    UniqueConstraint("arn", name="uq_resources_arn"),
)


class AlreadyExists(Exception):
    pass


# Told the ARN of a resource created, written back or deleted, after the write.
ChangeListener = Callable[[str], None]


@dataclass
class Resource:
    kind: str
    name: str
    arn: str
    status: str | None
    created: float
    modified: float
    doc: dict[str, Any]


def _row(row: Any) -> Resource:
    return Resource(
        row.kind, row.name, row.arn, row.status, row.created, row.modified, json.loads(row.doc)
    )


class ResourceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._listeners: list[ChangeListener] = []

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def _changed(self, arn: str) -> None:
        for listener in self._listeners:
            listener(arn)

    def create(
        self, kind: str, name: str, arn: str, doc: dict[str, Any], status: str | None = None
    ) -> Resource:
        now = time.time()
        values = {
            "kind": kind,
            "key": name.lower(),
            "name": name,
            "arn": arn,
            "status": status,
            "created": now,
            "modified": now,
            "doc": json.dumps(doc),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(resources_table).values(**values))
        except IntegrityError as exc:
            raise AlreadyExists(name) from exc
        self._changed(arn)
        return Resource(kind, name, arn, status, now, now, doc)

    def get(self, kind: str, name: str) -> Resource | None:
        t = resources_table
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.kind == kind, t.c.key == name.lower())).first()
        return _row(row) if row else None

    def get_by_arn(self, arn: str) -> Resource | None:
        t = resources_table
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.arn == arn)).first()
        return _row(row) if row else None

    def save(self, res: Resource) -> Resource:
        """Write back `res.doc` and `res.status`; bumps `modified`."""
        t = resources_table
        res.modified = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.kind == res.kind, t.c.key == res.name.lower())
                .values(status=res.status, modified=res.modified, doc=json.dumps(res.doc))
            )
        self._changed(res.arn)
        return res

    def delete(self, kind: str, name: str) -> bool:
        t = resources_table
        where = (t.c.kind == kind, t.c.key == name.lower())
        with self.engine.begin() as conn:
            arn = conn.execute(select(t.c.arn).where(*where)).scalar()
            if arn is None:
                return False
            conn.execute(delete(t).where(*where))
        self._changed(arn)
        return True

    def list(self, kind: str) -> list[Resource]:
        t = resources_table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.kind == kind).order_by(t.c.created)).all()
        return [_row(r) for r in rows]
