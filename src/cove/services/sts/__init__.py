"""The STS API (query protocol): GetCallerIdentity."""
