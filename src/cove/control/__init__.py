"""The SageMaker hosting control plane: models, endpoint configs, endpoints and their
state machines, reconciled against the data plane."""
