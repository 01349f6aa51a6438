#!/usr/bin/env python3
"""Write docs/iam-conformance.md from the conformance table in tests/unit/iam_conformance/.

Run from anywhere: `python scripts/iam_conformance_doc.py` (with src/ importable, as in the
project's venv). `--check` exits 1 instead of writing when the document is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "unit" / "iam_conformance"), str(ROOT / "src")]

from iam_conformance_table import DOC_PATH, render  # noqa: E402


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = DOC_PATH.read_text() if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH.relative_to(ROOT)} is out of date", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(text)
    print(f"wrote {DOC_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
