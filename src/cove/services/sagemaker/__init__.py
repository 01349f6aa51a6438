"""The SageMaker API (json 1.1): the control plane's and the jobs' operations."""
