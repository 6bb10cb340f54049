from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("sphinx.testing.fixtures",)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def rootdir() -> Path:
    """Sphinx test roots: tests/roots/test-<name>/."""
    return Path(__file__).resolve().parent / "roots"
