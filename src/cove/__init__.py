"""Cove: a self-hosted SageMaker inference stack."""
