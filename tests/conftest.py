from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import FixtureServer, serve

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    """A real HTTP server on 127.0.0.1 with routes the test sets and a request log."""
    yield from serve()


@pytest.fixture
def shared() -> Path:
    """../shared (real data no one here wrote); the test skips where it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent (real-data tests run in CI and on developer machines)")
    return SHARED
