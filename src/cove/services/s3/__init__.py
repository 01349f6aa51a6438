"""The S3 API (rest-xml) on the embedded object store."""
