"""Persistence: the metadata database (SQLAlchemy), the embedded object store,
and the artifact interface Cove's components read s3:// and file:// URIs through."""
