"""Content-encoding decoders, streamed: a body is never inflated more than one piece past its cap.

gzip (several members too), deflate (zlib-wrapped, or raw as some servers send it) and brotli,
each handing out at most PIECE bytes at a time, so the fetcher can stop a bomb at its size cap.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Protocol

import brotli

PIECE = 64 * 1024


class DecodeError(Exception):
    """The body cannot be decoded; one line."""


class Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def finish(self) -> Iterator[bytes]:
        return iter(())


class Zlib:
    """gzip (several members too) and deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, gzip: bool) -> None:
        self.wbits = zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS
        self.first = not gzip
        self.head = b""
        self.inflater = zlib.decompressobj(self.wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.first and len(self.head) + len(data) < 2:
            self.head += data  # a zlib header is two bytes: wait for both before telling raw from wrapped
            return
        data, self.head = self.head + data, b""
        while data:
            try:
                piece = self.inflater.decompress(data, PIECE)
            except zlib.error:
                if not self.first:
                    raise
                self.first, self.wbits = False, -zlib.MAX_WBITS
                self.inflater = zlib.decompressobj(self.wbits)
                continue
            self.first = False
            if piece:
                yield piece
            data = self.inflater.unconsumed_tail
            if self.inflater.eof and self.inflater.unused_data:
                data = self.inflater.unused_data  # the next gzip member
                self.inflater = zlib.decompressobj(self.wbits)
            elif not data and len(piece) == PIECE:
                data = b""
                yield from self._drain()

    def _drain(self) -> Iterator[bytes]:
        while piece := self.inflater.decompress(b"", PIECE):
            yield piece

    def finish(self) -> Iterator[bytes]:
        if self.head:
            self.first, self.head, data = False, b"", self.head
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # one byte can only be raw deflate
            yield from self.feed(data)
        yield from self._drain()


class Brotli:
    def __init__(self) -> None:
        self.inflater = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        # can_accept_more_data() may say True while output is still pending: drain until empty.
        piece = self.inflater.process(data, output_buffer_limit=PIECE)
        while piece:
            yield piece
            piece = b"" if self.inflater.is_finished() else self.inflater.process(b"", output_buffer_limit=PIECE)

    def finish(self) -> Iterator[bytes]:
        return iter(())


def decoder_for(encoding: str) -> Decoder:
    if encoding in ("", "identity"):
        return Identity()
    if encoding in ("gzip", "x-gzip", "deflate"):
        return Zlib(gzip=encoding != "deflate")
    if encoding == "br":
        return Brotli()
    raise DecodeError(f"unsupported content-encoding {encoding[:40]!r}")


async def once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def decoded(raw: AsyncIterator[bytes], decoder: Decoder) -> AsyncIterator[bytes]:
    try:
        async for chunk in raw:
            for piece in decoder.feed(chunk):
                yield piece
        for piece in decoder.finish():
            yield piece
    except (zlib.error, brotli.error) as exc:
        raise DecodeError(f"body does not decode ({str(exc)[:80]})") from None
