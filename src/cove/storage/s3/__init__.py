"""The embedded S3 object store: buckets, objects, multipart uploads, checksums, and its
typed failures."""
