"""IAM identities of the account: users and their access keys, persisted, and kept in the
credential store the gateway authenticates requests with."""
