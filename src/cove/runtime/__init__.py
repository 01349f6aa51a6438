"""The data plane: instance processes, serving images, the router, and InvokeEndpoint."""
