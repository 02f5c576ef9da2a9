"""One fetch through a fresh Fetcher with short deadlines, for the tests of the fetcher and the decoders."""

from __future__ import annotations

import pytest

from monitor.fetch import Fetched, Fetcher
from monitor.pollerrors import FetchError
from monitor.sources.base import Request, Validators


async def fetch(url: str, validators: Validators | None = None, **options: object) -> Fetched:
    settings: dict[str, object] = {"timeout": 5, "stall_timeout": 2} | options
    async with Fetcher(**settings) as fetcher:  # type: ignore[arg-type]
        return await fetcher.fetch(Request(url), validators)


async def failure(url: str, **options: object) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch(url, None, **options)
    return caught.value
