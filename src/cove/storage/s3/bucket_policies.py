"""Bucket policies: one document per bucket, kept as the client sent it, gone with its
bucket (S3 API reference, "PutBucketPolicy", "GetBucketPolicy", "DeleteBucketPolicy")."""

from __future__ import annotations

from sqlalchemy import Column, Engine, String, Table, Text, delete, insert, select, update

from cove.storage.db import metadata
from cove.storage.s3.errors import StoreError, StoreFailure

bucket_policies_table = Table(
    "s3_bucket_policies",
    metadata,
    Column("bucket", String(63), primary_key=True),
    Column("policy", Text, nullable=False),
)


class BucketPolicies:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, bucket: str) -> str | None:
        p = bucket_policies_table
        with self.engine.connect() as conn:
            row = conn.execute(select(p.c.policy).where(p.c.bucket == bucket)).first()
        return None if row is None else str(row.policy)

    def held(self, bucket: str) -> tuple[str, ...]:
        """The resource policies `bucket` holds, as an authorizer takes them."""
        policy = self.get(bucket)
        return () if policy is None else (policy,)

    def required(self, bucket: str) -> str:
        policy = self.get(bucket)
        if policy is None:
            raise StoreError(StoreFailure.NO_SUCH_BUCKET_POLICY, BucketName=bucket)
        return policy

    def put(self, bucket: str, policy: str) -> None:
        p = bucket_policies_table
        with self.engine.begin() as conn:
            if conn.execute(select(p.c.bucket).where(p.c.bucket == bucket)).first() is None:
                conn.execute(insert(p).values(bucket=bucket, policy=policy))
            else:
                conn.execute(update(p).where(p.c.bucket == bucket).values(policy=policy))

    def delete(self, bucket: str) -> None:
        p = bucket_policies_table
        with self.engine.begin() as conn:
            conn.execute(delete(p).where(p.c.bucket == bucket))
