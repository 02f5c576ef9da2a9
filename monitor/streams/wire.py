"""The connections under a stream: a WebSocket (websockets) or server-sent events (the httpx client).

Each opener yields the frames as they arrive, as (data, event name) pairs, and turns every way a
connection fails into a one-line FetchError: the stream runner only sees frames and PollErrors.
A connection that says nothing for `idle` seconds (no frame, no heartbeat) fails too, so a stream
that went quiet is connected again.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidHandshake, InvalidStatus, InvalidURI

from monitor.clock import Clock
from monitor.fetch import DEFAULT_USER_AGENT, Fetcher, size_text, status_error
from monitor.pollerrors import FetchError
from monitor.sources.base import Request
from monitor.sources.sse import EventDecoder
from monitor.textsafe import one_line

Frames = AsyncIterator[tuple[str | bytes | None, str]]
"""(data, SSE event name or ""); data None for a frame over the kind's `max_frame`, skipped unread."""
HARD_LIMIT_FACTOR = 16
"""A WebSocket frame up to this many times the kind's `max_frame` is read (then skipped and counted);
a larger one ends the connection, so no server can make us hold more."""
MESSAGE_TOO_BIG = 1009
OPEN_TIMEOUT = 10.0


@asynccontextmanager
async def websocket(request: Request, *, max_frame: int, idle: float, clock: Clock) -> AsyncIterator[Frames]:
    """A WebSocket's messages, each with the event name ""."""
    hard_limit = max_frame * HARD_LIMIT_FACTOR
    try:
        opened = connect(request.url, additional_headers=dict(request.headers), user_agent_header=DEFAULT_USER_AGENT,
                         max_size=hard_limit, open_timeout=OPEN_TIMEOUT, close_timeout=2)
        async with opened as connection:
            yield _messages(connection, max_frame, idle)
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise status_error(status, {k.lower(): v for k, v in exc.response.headers.raw_items()}, clock()) from None
    except InvalidURI:
        raise FetchError("invalid WebSocket URL") from None
    except InvalidHandshake as exc:
        raise FetchError(f"WebSocket handshake failed ({one_line(str(exc), 120)})") from None
    except ConnectionClosed as exc:
        if exc.sent is not None and exc.sent.code == MESSAGE_TOO_BIG:
            raise FetchError(f"a frame over {size_text(hard_limit)}: the connection was closed") from None
        code = exc.rcvd.code if exc.rcvd is not None else "none"
        raise FetchError(f"connection lost (close code {code})") from None
    except TimeoutError:
        raise FetchError(f"no answer within {OPEN_TIMEOUT:g} s") from None
    except OSError as exc:
        raise FetchError(_os_error(exc)) from None


async def _messages(connection: ClientConnection, max_frame: int, idle: float) -> Frames:
    """Messages until the server closes; FetchError when one does not come within `idle` seconds.
    The deadline runs only while waiting for the next frame: a reader paused by a full backlog is
    not a quiet stream."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(None) as deadline:
            while True:
                deadline.reschedule(loop.time() + idle)
                try:
                    message = await connection.recv()
                except ConnectionClosedOK:
                    return
                deadline.reschedule(None)
                yield (message if len(message) <= max_frame else None), ""
    except TimeoutError:
        raise FetchError(f"no frame for {idle:g} s: connecting again") from None


@asynccontextmanager
async def event_stream(fetcher: Fetcher, request: Request, *, max_frame: int, idle: float) -> AsyncIterator[Frames]:
    """Server-sent events (comments keep the connection alive but yield nothing)."""
    async with fetcher.stream(request, idle=idle) as body:
        yield _events(body, max_frame)


async def _events(body: AsyncIterator[bytes], max_frame: int) -> Frames:
    decoder = EventDecoder(max_frame)
    async for chunk in body:
        for event in decoder.feed(chunk):
            yield (None, "") if event.oversize else (event.data, event.name)


def _os_error(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    return f"cannot connect ({one_line(exc.strerror or str(exc), 120) or 'no reason given'})"
