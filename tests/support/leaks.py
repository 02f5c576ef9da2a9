"""A token must not reach any output or the database, not even in part."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

PREFIX = "tok-"  # tokens in these tests are PREFIX + a random hex string


def assert_token_kept_out(token: str, outputs: Mapping[str, bytes], folder: Path) -> None:
    """No 10 characters in a row of the token's random part in any of `outputs` or of the database's
    files in `folder` (a quote cut short still leaks)."""
    pieces = [token[i:i + 10].encode() for i in range(len(PREFIX), len(token) - 9)]
    for what, data in outputs.items():
        assert not [p for p in pieces if p in data], f"the token leaked into {what}"
    for file in folder.iterdir():
        if file.name.startswith("monitor.db"):
            assert not [p for p in pieces if p in file.read_bytes()], f"the token is in {file.name}"
