"""The function runtime: each function version runs in warm sandboxed worker processes
(`SandboxedRuntime` in runtime.py). Empty on purpose: a worker's bootstrap imports modules
of this package, and its cold start pays for every import."""
