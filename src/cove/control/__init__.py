"""The SageMaker hosting control plane: models, endpoint configs, endpoints and their
state machines, served over json 1.1 and reconciled against the data plane."""
