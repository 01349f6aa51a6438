"""One virtual environment per peer server under benchmarks/.venvs, created with pip on first use.

Every peer gets the same scikit-learn, joblib and numpy as the harness, so the one pickled
model loads (and predicts) identically everywhere.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

VENV_ROOT = Path(__file__).resolve().parent.parent / ".venvs"
STAMP = ".bench-requirements"
SHARED = ("scikit-learn", "joblib", "numpy")


class Unavailable(Exception):
    """The peer could not be installed here; str() says why."""


def requirements(packages: list[str]) -> list[str]:
    return [*packages, *(f"{dist}=={metadata.version(dist)}" for dist in SHARED)]


def ensure(name: str, packages: list[str], log_path: Path) -> Path:
    """The venv's python, (re)installing only when the requirement list changed."""
    venv = VENV_ROOT / name
    python = venv / "bin" / "python"
    reqs = requirements(packages)
    stamp = venv / STAMP
    if python.exists() and stamp.exists() and stamp.read_text().split("\n") == reqs:
        return python
    with open(log_path, "ab") as log:
        # The interpreter behind the harness venv, so every server runs the same Python.
        base = getattr(sys, "_base_executable", sys.executable)
        steps = [[base, "-m", "venv", str(venv)],
                 [str(python), "-m", "pip", "install", "--disable-pip-version-check", *reqs]]
        for step in steps:
            if subprocess.run(step, stdout=log, stderr=subprocess.STDOUT).returncode:
                lines = log_path.read_text(errors="replace").strip().splitlines()
                raise Unavailable(f"`{' '.join(step[-3:])}` failed: {lines[-1] if lines else ''}")
    stamp.write_text("\n".join(reqs))
    return python


def version(python: Path, dist: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or "?"
