"""Identity and access: principals, credentials, and IAM-style policy evaluation."""
