"""The account's VPC networks: their resources as EC2 describes them (state, persisted),
and the fabric that builds each VPC as a real network on this host."""
