"""Which Host headers name a bucket (virtual-hosted style) and which are path style:
Amazon S3 User Guide, "Virtual hosting of buckets" (bucket.s3.region.amazonaws.com, the
legacy global and dash-region forms) and "AWS PrivateLink for Amazon S3" (an interface
endpoint's bucket.vpce-... name takes path style; bucket-name.bucket.vpce-... is
virtual-hosted). Hosts in a VPC use these names: private DNS and the public edge."""

from __future__ import annotations

import pytest

from cove.services.s3.call import bucket_of_host


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("models.s3.us-east-1.amazonaws.com", "models"),
        ("models.s3.amazonaws.com", "models"),
        ("my.dotted.bucket.s3.us-west-2.amazonaws.com", "my.dotted.bucket"),
        ("models.s3-us-west-2.amazonaws.com", "models"),
        ("models.bucket.vpce-0a1b2c3d4e5f60718-abcd1234.s3.us-east-1.vpce.amazonaws.com", "models"),
        ("models.localhost", "models"),
        ("s3.us-east-1.amazonaws.com", None),
        ("s3.amazonaws.com", None),
        ("bucket.vpce-0a1b2c3d4e5f60718-abcd1234.s3.us-east-1.vpce.amazonaws.com", None),
        ("127.0.0.1", None),
        ("localhost", None),
    ],
)
def test_the_bucket_a_host_names(host: str, bucket: str | None) -> None:
    assert bucket_of_host(host) == bucket
