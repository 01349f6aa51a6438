"""What runs inside a sandboxed model instance: the worker process and its serving stacks."""
