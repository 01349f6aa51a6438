"""API Gateway REST APIs: resources, methods, integrations, deployments and stages, and
the engine that answers a stage's invoke URL."""
