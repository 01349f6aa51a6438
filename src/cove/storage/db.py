"""The metadata database: SQLite in the data dir by default, any SQLAlchemy URL by config."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, create_engine, event

metadata = MetaData()


def open_engine(url: str) -> Engine:
    """Create the engine and every table registered on `metadata`."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = conn.cursor()
            # WAL keeps readers unblocked while a writer commits; FULL sync loses nothing.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()
    else:
        engine = create_engine(url, pool_pre_ping=True)
    # Import modules that declare tables so they register on `metadata`.
    from cove.storage import resources  # noqa: F401
    from cove.storage.s3 import bucket_policies, objects, uploads  # noqa: F401

    metadata.create_all(engine)
    return engine
