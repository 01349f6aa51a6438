"""Cove's tests. A regular package, so that `tests.conftest` and `tests.models` are these
files even where an installed distribution ships a top-level `tests` package of its own
(smdebug-rulesconfig, which the SageMaker Python SDK depends on, does); `pythonpath` in
pyproject.toml keeps this directory importable as it was (`from models import ...`)."""
