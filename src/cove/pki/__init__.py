"""Cove's own certificate authority: the TLS certificates of its listeners inside VPCs."""
