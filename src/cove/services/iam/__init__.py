"""The IAM API (query protocol): users and access keys."""
