"""The S3 API (rest-xml) over the embedded object store.

Matched last by the gateway: it takes requests signed for `s3` and unsigned requests no
other service claimed. An unsigned request is anonymous: it may do what the bucket's policy
allows everyone ("Principal": "*"), and is refused anything else with S3's AccessDenied
"Access Denied" (a bucket that does not exist is NoSuchBucket to it, see `_authorize`).
A missing key is NoSuchKey only to a caller that may list the bucket (`_missing_key`).
DeleteObjects is authorized per key it names, each refused one an error of its result
(`_may_act_on`).
Operations run in a worker thread, because they hash and write to disk. The bodies of
PutObject and UploadPart stream to disk as they arrive, after the gateway verified the
signature from the headers; every other body is small and read whole first.

Which operation a request calls comes from botocore's model (`RestRouter`), its input
from the operation's rest binding (`OperationBinding`, compiled once per operation with
S3's rules in `values`), and its answer is the handler's output members serialized by
the same binding. An operation is a handler and one line in `_IMPLEMENTED`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

from cove.auth.credentials import CredentialStore
from cove.errors import AwsError
from cove.gateway.plans import XML_PLAN, request_timeout
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.body import BodyAborted, BodyFailure
from cove.http.messages import BodyPlan, Request, Response
from cove.iam.policy import ROOT_ONLY, Authorizer, is_denial
from cove.iam.principals import Identities
from cove.protocol.rest import OperationBinding
from cove.protocol.rest_errors import error_response
from cove.protocol.rest_routes import RestRouter, RouteMatch
from cove.protocol.shapes import service_model
from cove.services.s3 import bucket_policies, buckets, multipart, objects
from cove.services.s3.call import S3_NS, KeyCheck, Reply, S3Call, parse_call
from cove.services.s3.errors import store_error
from cove.services.s3.objects import MAX_OBJECT_SIZE
from cove.services.s3.values import VERBATIM, invalid_value
from cove.storage.s3.errors import StoreError, StoreFailure
from cove.storage.s3.objects import ObjectStore

Handler = Callable[[S3Call, ObjectStore], Reply]

# Sub-resources select an operation; any other sub-resource (?acl, ?tagging, ...) is
# answered with NotImplemented rather than silently treated as a plain object call.
_SUBRESOURCES = {"location", "versioning", "uploads", "delete", "uploadId", "policy"}
# Parameters that tune an operation.
_PARAMETERS = {
    "prefix",
    "delimiter",
    "marker",
    "max-keys",
    "list-type",
    "continuation-token",
    "start-after",
    "fetch-owner",
    "encoding-type",
    "partNumber",
    "max-parts",
    "part-number-marker",
    "versionId",
    "x-id",
    "max-buckets",
    "bucket-region",
    "key-marker",
    "upload-id-marker",
    "max-uploads",
    # query-string authentication (signature version 2), verified by the gateway
    "AWSAccessKeyId",
    "Signature",
    "Expires",
    "x-amz-security-token",  # a session's token, as version 2's presigner places it
}


@dataclass(frozen=True)
class Operation:
    name: str
    action: str  # the IAM action authorization is evaluated on
    handler: Handler
    binding: OperationBinding
    root: str | None  # the root element S3 names the output document by


# What Cove implements of S3: operation -> (IAM action, handler, root element of the
# output document where it has one). Which operation a request calls comes from
# botocore's model (`RestRouter`: requestUri templates, literal query keys, required
# members); one the model knows and Cove does not is NotImplemented.
_IMPLEMENTED: dict[str, tuple[str, Handler, str | None]] = {
    "ListBuckets": ("ListAllMyBuckets", buckets.list_buckets, "ListAllMyBucketsResult"),
    "ListObjects": ("ListBucket", buckets.list_objects, "ListBucketResult"),
    "ListObjectsV2": ("ListBucket", buckets.list_objects_v2, "ListBucketResult"),
    "GetBucketLocation": ("GetBucketLocation", buckets.get_bucket_location, None),
    "GetBucketVersioning": (
        "GetBucketVersioning",
        buckets.get_bucket_versioning,
        "VersioningConfiguration",
    ),
    "ListMultipartUploads": (
        "ListBucketMultipartUploads",
        multipart.list_uploads,
        "ListMultipartUploadsResult",
    ),
    "CreateBucket": ("CreateBucket", buckets.create_bucket, None),
    "HeadBucket": ("ListBucket", buckets.head_bucket, None),
    "DeleteBucket": ("DeleteBucket", buckets.delete_bucket, None),
    "DeleteObjects": ("DeleteObject", objects.delete_objects, "DeleteResult"),
    "PutObject": ("PutObject", objects.put_object, None),
    "CopyObject": ("PutObject", objects.copy_object, None),
    "GetObject": ("GetObject", objects.get_object, None),
    "HeadObject": ("GetObject", objects.head_object, None),
    "DeleteObject": ("DeleteObject", objects.delete_object, None),
    "CreateMultipartUpload": (
        "PutObject",
        multipart.create_upload,
        "InitiateMultipartUploadResult",
    ),
    "UploadPart": ("PutObject", multipart.upload_part, None),
    "UploadPartCopy": ("PutObject", multipart.upload_part_copy, None),
    "ListParts": ("ListMultipartUploadParts", multipart.list_parts, "ListPartsResult"),
    "CompleteMultipartUpload": (
        "PutObject",
        multipart.complete_upload,
        "CompleteMultipartUploadResult",
    ),
    "AbortMultipartUpload": ("AbortMultipartUpload", multipart.abort_upload, None),
    "PutBucketPolicy": ("PutBucketPolicy", bucket_policies.put_bucket_policy, None),
    "GetBucketPolicy": ("GetBucketPolicy", bucket_policies.get_bucket_policy, None),
    "DeleteBucketPolicy": ("DeleteBucketPolicy", bucket_policies.delete_bucket_policy, None),
}
_MODEL = service_model("s3")
_ROUTER = RestRouter(_MODEL)


def _operation(name: str, action: str, handler: Handler, root: str | None) -> Operation:
    binding = OperationBinding(
        _MODEL.operation_model(name), verbatim=VERBATIM, invalid=invalid_value(name)
    )
    return Operation(name, f"s3:{action}", handler, binding, root)


_OPERATIONS = {name: _operation(name, *entry) for name, entry in _IMPLEMENTED.items()}


def _not_implemented(what: str) -> AwsError:
    return AwsError(
        "NotImplemented",
        f"A parameter you provided implies functionality that is not implemented: {what}",
        501,
    )


def route(call: S3Call) -> tuple[Operation, RouteMatch]:
    method, q = call.req.method, call.params
    subresources = [p for p in q if p in _SUBRESOURCES]
    unknown = [
        p
        for p in q
        if p not in _SUBRESOURCES
        and p not in _PARAMETERS
        and not p.startswith(("response-", "X-Amz-"))
    ]
    if unknown or len(subresources) > 1:
        raise _not_implemented((unknown or subresources)[0])
    version = q.get("versionId", ["null"])[-1]
    if version != "null":
        raise AwsError(
            "InvalidArgument",
            "Invalid version id specified",
            fields={"ArgumentName": "versionId", "ArgumentValue": version},
        )
    # path style, whatever style the request used: the model's templates are path style
    path = "/" + quote(call.bucket, safe="") + ("/" + quote(call.key, safe="/") if call.key else "")
    found = _ROUTER.match(method, path, call.params, call.headers, strict=True)
    if found is None:
        raise method_not_allowed(method, "OBJECT" if call.key else "BUCKET")
    name = found.operation.name
    operation = _OPERATIONS.get(name)
    if operation is None:
        raise _not_implemented(subresources[0] if subresources else name)
    stray = [sub for sub in subresources if sub not in operation.binding.query_keys]
    if stray:  # e.g. ?uploads on an object: no operation of that path takes it
        raise _not_implemented(stray[0])
    return operation, found


def _parse(operation: Operation, call: S3Call, found: RouteMatch) -> None:
    """The operation's input into `call`: a streaming body handed through unread, an XML
    body left for the handler to read once it checked what must fail first."""
    req, binding = call.req, operation.binding
    body = None
    if binding.streams_input:
        body = req.stream if req.stream is not None else req.body
    call.binding = binding
    call.input = binding.parse(found.labels, call.params, req.headers, body)


def _answer(operation: Operation, call: S3Call, reply: Reply) -> Response:
    response = operation.binding.serialize(
        reply.output,
        call.request_id,
        status=reply.status,
        root=operation.root,
        namespace=S3_NS,
    )
    if reply.document is not None:
        response.body = reply.document
    return response


def _upload_too_large(size: int) -> AwsError:
    return AwsError(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        fields={"ProposedSize": size, "MaxSizeAllowed": MAX_OBJECT_SIZE},
    )


# PutObject and UploadPart: up to 5 GiB of content (a part's limit too), streamed; the
# aws-chunked framing around it adds well under 1/64 on the wire.
UPLOAD_PLAN = BodyPlan(
    MAX_OBJECT_SIZE, _upload_too_large, stream=True, framing=MAX_OBJECT_SIZE // 64
)
# Uploads that stall hold a thread each until the body timeout; these threads are
# theirs, so they cannot starve the other operations of the default pool.
UPLOAD_THREADS = 32


def _is_upload(req: Request) -> bool:
    """PutObject or UploadPart with a body (not a copy), from the headers alone."""
    if req.method != "PUT" or "x-amz-copy-source" in req.headers:
        return False
    call = parse_call(req, None)
    if not call.bucket or not call.key:
        return False
    return not any(name in _SUBRESOURCES and name != "uploadId" for name in call.params)


def _body_error(exc: BodyAborted) -> AwsError:
    if exc.failure is BodyFailure.TOO_LARGE:
        return _upload_too_large(exc.size)
    if exc.failure is BodyFailure.TIMEOUT:
        return request_timeout()
    return AwsError("IncompleteBody", "The request body terminated unexpectedly")


def _resource_arn(call: S3Call) -> str:
    if not call.bucket:
        return "*"
    return f"arn:aws:s3:::{call.bucket}" + (f"/{call.key}" if call.key else "")


def method_not_allowed(method: str, resource_type: str) -> AwsError:
    return AwsError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        fields={"Method": method, "ResourceType": resource_type},
    )


# Only identities of the bucket owner's account may call these, whatever the policy says.
_OWNER_ONLY = frozenset({"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"})
# What a missing key answers depends on s3:ListBucket for these (S3 API Reference,
# GetObject and HeadObject, "Permissions").
_LISTING_TELLS = frozenset({"GetObject", "HeadObject"})
# These read the object their CopySource names as well as write their own.
_COPIES = frozenset({"CopyObject", "UploadPartCopy"})
# Authorized on each object they name, with no permission asked of the bucket (S3 API
# Reference, DeleteObjects, "Permissions": s3:DeleteObject to delete an object).
_PER_KEY = frozenset({"DeleteObjects"})


# S3's denials quote the resource ARN, IAM's words otherwise: `... on resource:
# "arn:aws:s3:::b/k" because ...` (S3 UG, "Troubleshoot access denied (403 Forbidden)
# errors in Amazon S3", access denied message examples)
_QUOTED_RESOURCE = re.compile(r"on resource: (.+?) (because no |with an explicit deny )")


def _held(bucket_policy: str | None) -> tuple[str, ...]:
    """The resource policies a bucket holds: its bucket policy, if it has one."""
    return () if bucket_policy is None else (bucket_policy,)


class S3Service(ServiceDefaults):
    protocol = "rest-xml"
    # S3 answers what no other service claims unsigned: anonymous and SigV2 requests
    signing_names = ("s3", UNSIGNED)
    anonymous_requests = True  # decided by the bucket policy alone

    def __init__(
        self,
        objects: ObjectStore,
        credentials: CredentialStore | None = None,
        authorizer: Authorizer = ROOT_ONLY,
        identities: Identities | None = None,
    ) -> None:
        self.objects = objects
        self.authorizer = authorizer
        # PutBucketPolicy looks up the users and roles a policy names (none without it)
        self.identities = identities
        # Needed only to check chunk signatures of signed streaming uploads.
        self.credentials = credentials
        self._upload_threads = ThreadPoolExecutor(UPLOAD_THREADS, "s3-upload")

    def claims(self, req: Request) -> bool:
        return True

    def body_plan(self, req: Request) -> BodyPlan:
        return UPLOAD_PLAN if _is_upload(req) else XML_PLAN

    def _secret(self, access_key: str) -> str | None:
        cred = self.credentials.get(access_key) if self.credentials else None
        return cred.secret_key if cred else None

    async def handle(self, req: Request) -> Response:
        call = parse_call(req, self._secret)
        call.identities = self.identities
        operation, found = route(call)
        req.context.operation = operation.name
        bucket_policy = self.objects.policies.get(call.bucket) if call.bucket else None
        if operation.name in _PER_KEY:
            call.may_act_on = self._may_act_on(req, operation, call, bucket_policy)
        else:
            self._authorize(req, operation, call, bucket_policy)
        if req.context.principal is None and operation.name in _OWNER_ONLY:
            # S3 API Reference, PutBucketPolicy (and Get/Delete): allowed, but not an
            # identity of the bucket owner's account (an anonymous one never is): 405
            raise method_not_allowed(req.method, "BUCKET")
        _parse(operation, call, found)
        if operation.name in _COPIES:
            self._may_read_source(req, call)

        def run() -> Response:
            return _answer(operation, call, operation.handler(call, self.objects))

        try:
            if req.stream is None:
                return await asyncio.to_thread(run)
            return await asyncio.get_running_loop().run_in_executor(self._upload_threads, run)
        except StoreError as err:
            if err.failure is StoreFailure.NO_SUCH_KEY and operation.name in _LISTING_TELLS:
                self._missing_key(req, call, bucket_policy)
            raise store_error(err) from None
        except BodyAborted as exc:
            raise _body_error(exc) from None

    def _authorize(
        self, req: Request, operation: Operation, call: S3Call, bucket_policy: str | None
    ) -> None:
        """The caller may call `operation`, or AccessDenied. An anonymous caller is told of a
        bucket that does not exist instead: without an identity of its own, S3 decides it in
        the bucket owner's context, and a missing bucket has none (S3 UG, "How Amazon S3
        authorizes a request"). A signed caller is refused in its own account's context
        first, bucket or no bucket. Looked up only once refused: nothing on allowed requests."""
        try:
            self.authorizer.authorize(
                req.context, operation.action, _resource_arn(call),
                resource_policies=_held(bucket_policy),
            )  # fmt: skip
        except AwsError:
            # a bucket with a policy exists; CreateBucket names one that need not
            names_one = bool(call.bucket) and operation.name != "CreateBucket"
            if req.context.principal is None and names_one and bucket_policy is None:
                self._bucket_exists(call.bucket)
            raise

    def _may_act_on(
        self, req: Request, operation: Operation, call: S3Call, bucket_policy: str | None
    ) -> KeyCheck:
        """Whether the caller may do `operation`'s action on one key: one authorization a
        key, under the bucket policy, asked by the handler's worker thread as it goes (the
        root user's, with no policy to stop it, returns at once; a user's decisions are
        cached as for any request)."""
        held = _held(bucket_policy)

        def may(key: str) -> bool:
            try:
                self.authorizer.authorize(
                    req.context, operation.action, f"arn:aws:s3:::{call.bucket}/{key}",
                    resource_policies=held,
                )  # fmt: skip
            except AwsError as err:
                if not is_denial(err):
                    raise
                return False
            return True

        return may

    def _bucket_exists(self, bucket: str) -> None:
        try:
            self.objects.get_bucket(bucket)
        except StoreError as err:
            raise store_error(err) from None

    def _may_read_source(self, req: Request, call: S3Call) -> None:
        """A copy needs s3:GetObject on its source, under the source bucket's policy, besides
        s3:PutObject on its destination (S3 API Reference, CopyObject and UploadPartCopy,
        "Permissions")."""
        bucket, key = objects.copy_source(call.input["CopySource"])
        policy = self.objects.policies.get(bucket)
        self.authorizer.authorize(
            req.context,
            "s3:GetObject",
            f"arn:aws:s3:::{bucket}/{key}",
            resource_policies=_held(policy),
        )

    def _missing_key(self, req: Request, call: S3Call, bucket_policy: str | None) -> None:
        """AccessDenied for a missing key unless the caller may list the bucket: NoSuchKey
        would tell who may not list it what the bucket does not hold. Asked only once the
        key was found missing, so reading an object that exists costs nothing more."""
        self.authorizer.authorize(
            req.context,
            "s3:ListBucket",
            f"arn:aws:s3:::{call.bucket}",
            resource_policies=_held(bucket_policy),
        )

    def error_response(self, err: AwsError, req: Request) -> Response:
        code, message = err.code, err.message
        if is_denial(err):
            code = "AccessDenied"
            if req.context.principal is None:  # S3 tells an anonymous caller no more
                message = "Access Denied"
            else:
                message = _QUOTED_RESOURCE.sub(r'on resource: "\1" \2', message, count=1)
        elif code == "InternalFailure":
            code, message = "InternalError", "We encountered an internal error. Please try again."
        shaped = AwsError(code, message, err.status, fields=err.fields, headers=err.headers)
        # S3's <Error> document; a HEAD error is the status alone
        return error_response(_MODEL, shaped, req.context.request_id, method=req.method)
