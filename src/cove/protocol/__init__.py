"""AWS wire protocols driven by botocore's service models.

Request parsing and validation, response serialization, errors and SigV4.
"""
