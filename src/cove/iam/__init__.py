"""Identity and access: IAM-style policy evaluation."""
