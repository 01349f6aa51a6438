"""PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy (S3 API reference). A bucket
policy is a resource-based policy: evaluated with the caller's own policies on every
request to the bucket and its objects (IAM User Guide, "Policy evaluation logic"). A
document S3 would not keep is refused with its MalformedPolicy (400), see policy_checks."""

from __future__ import annotations

from cove.services.s3.call import Reply, S3Call
from cove.services.s3.policy_checks import check_bucket_policy
from cove.storage.s3.objects import ObjectStore


def put_bucket_policy(call: S3Call, store: ObjectStore) -> Reply:
    bucket = call.input["Bucket"]
    store.get_bucket(bucket)
    policy = call.document() or ""  # the Policy payload, once the body's checks passed
    check_bucket_policy(policy, bucket, call.identities)
    store.policies.put(bucket, policy)
    return Reply(status=204)  # S3 answers 204 No Content ("PutBucketPolicy", Examples)


def get_bucket_policy(call: S3Call, store: ObjectStore) -> Reply:
    bucket = call.input["Bucket"]
    store.get_bucket(bucket)
    return Reply(output={"Policy": store.policies.required(bucket)})


def delete_bucket_policy(call: S3Call, store: ObjectStore) -> Reply:
    bucket = call.input["Bucket"]
    store.get_bucket(bucket)
    store.policies.delete(bucket)
    return Reply()
