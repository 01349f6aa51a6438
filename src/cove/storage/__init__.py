"""Persistence: the metadata database (SQLAlchemy), the embedded object store, the
artifact interface (s3:// and file:// URIs) and the data dir's claim."""
