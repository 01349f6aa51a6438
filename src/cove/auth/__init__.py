"""Authentication: the credential store, and SigV4 (headers, presigned URLs, streaming
chunks) and SigV2 query verification, with their rules and errors."""
