"""AWS wire protocols driven by botocore's service models: request parsing, validation,
response and error serialization."""
