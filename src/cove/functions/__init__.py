"""Lambda-style functions: their code and configuration, and the warm sandboxed workers
that run them."""
