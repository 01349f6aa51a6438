"""The data plane: fleets of instance processes, routing, lanes and batching, instance
supervision, the model store and metrics."""
