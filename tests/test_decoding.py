"""Compressed bodies: decoded while streaming, split anywhere, and never inflated far past the cap."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Callable

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.decoding import decoder_for
from tests.support.fetching import failure, fetch
from tests.support.server import FixtureServer, Reply


def raw_deflate(data: bytes) -> bytes:
    """Deflate without the zlib wrapper, as some servers send it."""
    deflater = zlib.compressobj(wbits=-15)
    return deflater.compress(data) + deflater.flush()


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),
        ("br", lambda data: brotli.compress(data, quality=5)),
    ],
)
async def test_compressed_bodies_are_decoded(
    server: FixtureServer, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    text = b"".join(b"<item><title>post %d</title></item>" % n for n in range(20000))
    server.routes["/feed"] = Reply(200, compress(text), {"Content-Encoding": encoding})
    fetched = await fetch(server.url("/feed"))
    assert fetched.response is not None and fetched.response.body == text
    assert "br" in server.log[0].headers["accept-encoding"]


async def test_concatenated_gzip_members_are_all_decoded(server: FixtureServer) -> None:
    server.routes["/feed"] = Reply(
        200, gzip.compress(b"first ") + gzip.compress(b"second"), {"Content-Encoding": "gzip"}
    )
    fetched = await fetch(server.url("/feed"))
    assert fetched.response is not None and fetched.response.body == b"first second"


@pytest.mark.parametrize(
    ("encoding", "compress"), [("gzip", gzip.compress), ("br", lambda data: brotli.compress(data, quality=5))]
)
async def test_a_compression_bomb_stops_at_the_cap(
    server: FixtureServer, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    bomb = compress(b"\0" * (8 * 2**20))
    assert len(bomb) < 64 * 2**10
    server.routes["/bomb"] = Reply(200, bomb, {"Content-Encoding": encoding})
    error = await failure(server.url("/bomb"), max_bytes=2**20)
    assert str(error) == "body larger than 1 MB"


async def test_a_large_bomb_never_inflates_far_past_the_cap(server: FixtureServer) -> None:
    """64 MB of zeros in 64 KB of gzip: decoding it a whole chunk at a time would hold all 64 MB at once."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    server.routes["/bomb"] = Reply(
        200, deflater.compress(bytes(64 * 2**20)) + deflater.flush(), {"Content-Encoding": "gzip"}
    )
    tracemalloc.start()
    try:
        error = await failure(server.url("/bomb"), max_bytes=2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(error) == "body larger than 1 MB"
    assert peak < 16 * 2**20


async def test_a_corrupt_compressed_body_is_an_error(server: FixtureServer) -> None:
    server.routes["/feed"] = Reply(200, b"\x1f\x8b\x08\x00garbage-not-gzip", {"Content-Encoding": "gzip"})
    assert str(await failure(server.url("/feed"))).startswith("body does not decode (")


async def test_an_unknown_content_encoding_is_an_error(server: FixtureServer) -> None:
    server.routes["/feed"] = Reply(200, b"???", {"Content-Encoding": "compress"})
    assert str(await failure(server.url("/feed"))) == "unsupported content-encoding 'compress'"


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "raw-deflate": raw_deflate,
    "br": lambda data: brotli.compress(data, quality=1),
}


@settings(max_examples=60, deadline=None)
@given(
    text=st.binary(max_size=2000),
    repeat=st.integers(1, 400),
    kind=st.sampled_from(sorted(ENCODERS)),
    cuts=st.lists(st.integers(1, 5000), max_size=20),
)
def test_decoders_give_back_the_original_however_the_body_is_split(
    text: bytes, repeat: int, kind: str, cuts: list[int]
) -> None:
    original = text * repeat
    compressed = ENCODERS[kind](original)
    decoder = decoder_for("deflate" if kind == "raw-deflate" else kind)
    pieces: list[bytes] = []
    start = 0
    for cut in [*cuts, len(compressed)]:
        pieces.extend(decoder.feed(compressed[start : start + cut]))
        start += cut
    pieces.extend(decoder.finish())
    assert b"".join(pieces) == original
    assert all(len(piece) <= 2 * 64 * 1024 for piece in pieces)


