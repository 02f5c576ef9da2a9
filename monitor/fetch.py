"""The one long-lived HTTP client: conditional GET, limits, redirects, size caps, errors → FetchError.

FetchError and StatusError are documented with the rest of a poll's errors in monitor.pollerrors.

Everything a server sends is hostile: bodies are streamed and capped after decoding, redirects are
followed by hand (bounded, http(s) only, no loops), every request has a total deadline on top of
httpx's per-phase timeouts, and error messages are one line that never carries request headers.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from types import TracebackType
from urllib.request import getproxies

import httpx

from monitor import __version__
from monitor.clock import Clock, utc_now
from monitor.decoding import DecodeError, Identity, decoded, decoder_for, once
from monitor.pollerrors import FetchError, StatusError
from monitor.schedule import parse_retry_after, rate_limit_reset
from monitor.sources.base import Request, Response, Validators
from monitor.textsafe import one_line

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"monitor/{__version__} (news and social media monitor; python-httpx)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
KEPT_CONNECTIONS = 64
"""Idle connections kept for the next request to their host, each for 5 s (beyond, the oldest closes)."""
PERMANENT = frozenset({401, 403, 404, 410})
"""Statuses that will not fix themselves soon: the scheduler backs off hard instead of retrying."""


@dataclass(frozen=True, slots=True)
class Fetched:
    response: Response | None
    """None when the server said 304 or the body's sha256 equals the last one: nothing to parse."""
    status: int
    validators: Validators
    elapsed_ms: float
    retry_at: datetime | None
    """When an exhausted rate limit resets (from the success's headers); None while calls remain."""


class Fetcher:
    """The project's one `httpx.AsyncClient`, with the limits every poll shares. Use `async with`."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 30,
        max_bytes: int = 10 * 2**20,
        max_redirects: int = 5,
        concurrency: int = 16,
        per_host: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        stall_timeout: float | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """`timeout` is each request's total deadline (redirects and body included); `stall_timeout`
        (default: the smaller of `timeout` and 10 s) bounds each connect, read, write and pool wait.
        `clock` turns rate-limit resets given in seconds into times: pass the daemon's clock."""
        self.timeout = timeout
        self.stall_timeout = min(timeout, 10.0) if stall_timeout is None else stall_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.clock = clock
        self._global = asyncio.Semaphore(concurrency)
        self._hosts = _HostSlots(per_host)
        # httpx logs every URL with its query (tokens) at INFO and httpcore quotes header values at
        # DEBUG: this client's own messages are the only ones that may reach the logs.
        for noisy in ("httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        # The pool bounds no requests (the slots above do), only the idle connections it keeps: enough for
        # one to each host of a tick's polls, not one per slot, which reconnected to nearly every host.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=KEPT_CONNECTIONS)
        if transport is None and not _proxied():
            from monitor.transport import AsyncioTransport  # here: h11 loads when a client is made

            transport = AsyncioTransport(kept=KEPT_CONNECTIONS)
        self._client = httpx.AsyncClient(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate, br"},
            timeout=httpx.Timeout(self.stall_timeout),
            limits=limits,
            follow_redirects=False,
            transport=transport,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, request: Request, validators: Validators | None = None) -> Fetched:
        """Fetch `request`, following redirects; FetchError for anything but a 2xx or 304."""
        url = _http_url(request)
        held = [_host_key(url)]
        # The host slot is taken before the global one, so a queue for one busy host never holds
        # global slots that requests to other hosts could use.
        await self._hosts.acquire(held[0])
        try:
            async with self._global:
                started = asyncio.get_running_loop().time()
                try:
                    async with asyncio.timeout(self.timeout):
                        return await self._follow(request, url, validators or Validators(), held, started)
                except TimeoutError:
                    raise FetchError(f"timed out after {self.timeout:g} s") from None
        finally:
            self._hosts.release(held[0])

    @asynccontextmanager
    async def stream(self, request: Request, *, idle: float) -> AsyncIterator[AsyncIterator[bytes]]:
        """A response's body as it arrives, for as long as it lasts (server-sent events): redirects
        followed (credentials stay with their host), the status checked as `fetch` checks it, every
        read bounded by `idle` seconds. Failures are FetchErrors, as `fetch`'s are."""
        url = _http_url(request)
        timeout = httpx.Timeout(self.stall_timeout, read=idle)
        try:
            async with self._client.stream(request.method, url, headers=dict(request.headers), timeout=timeout,
                                           follow_redirects=True) as response:
                if not 200 <= response.status_code < 300:
                    raise status_error(response.status_code, _lower_headers(response), self.clock())
                yield response.aiter_bytes()
        except httpx.HTTPError as exc:
            raise FetchError(describe_transport_error(exc, idle)) from None

    async def _follow(
        self, request: Request, url: httpx.URL, validators: Validators, held: list[str], started: float
    ) -> Fetched:
        """Send the request and follow at most max_redirects redirects, by hand."""
        method, body = request.method.upper(), request.json
        headers = dict(request.headers)
        if request.conditional:
            headers.update(_conditional_headers(validators))
        seen = {str(url)}
        for _hop in range(self.max_redirects + 1):
            await self._move_to(_host_key(url), held)
            hop = _Hop(method, url, headers, body)
            outcome = await self._send(hop, request, validators, started)
            if isinstance(outcome, Fetched):
                return outcome
            status, target = outcome
            if target.scheme not in ("http", "https"):
                raise FetchError(f"redirect to non-http URL {safe_url(target)}", status=status)
            if str(target) in seen:
                raise FetchError(f"redirect loop at {safe_url(target)}", status=status)
            seen.add(str(target))
            if _host_key(target) != _host_key(url):  # credentials are for the host they were meant for
                headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
            method, body = _after_redirect(status, method, body)
            log.debug("HTTP %d redirect to %s", status, safe_url(target))
            url = target
        raise FetchError(f"too many redirects (more than {self.max_redirects})")

    async def _move_to(self, host: str, held: list[str]) -> None:
        """Hold the per-host slot of the host the next hop goes to (held[0] is what we hold)."""
        if host != held[0]:
            self._hosts.release(held[0])
            held[0] = ""
            await self._hosts.acquire(host)
            held[0] = host

    async def _send(
        self, hop: _Hop, request: Request, validators: Validators, started: float
    ) -> Fetched | tuple[int, httpx.URL]:
        """One hop: the Fetched when it ends here, else the redirect's status and target."""
        try:
            built = self._client.build_request(hop.method, hop.url, headers=hop.headers, json=hop.body)
        except (TypeError, ValueError, UnicodeError) as exc:  # the message may quote a header value
            raise FetchError(f"invalid request ({type(exc).__name__})") from None
        try:
            response = await self._client.send(built, stream=True)
            try:
                return await self._handle(response, request, validators, started)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise FetchError(describe_transport_error(exc, self.stall_timeout)) from None

    async def _handle(
        self, response: httpx.Response, request: Request, validators: Validators, started: float
    ) -> Fetched | tuple[int, httpx.URL]:
        status, headers, now = response.status_code, _lower_headers(response), self.clock()
        if status in REDIRECTS:
            location = headers.get("location", "").strip()
            if not location:
                raise FetchError(f"HTTP {status} redirect without a Location header", status=status)
            try:
                return status, response.url.join(location)
            except httpx.InvalidURL:
                raise FetchError(f"HTTP {status} redirect to an invalid URL", status=status) from None
        if status == 304:
            kept = Validators(
                etag=headers.get("etag", validators.etag),
                last_modified=headers.get("last-modified", validators.last_modified),
                body_hash=validators.body_hash,
            )
            return Fetched(None, 304, kept, _ms_since(started), rate_limit_reset(headers, now))
        if not 200 <= status < 300 and status not in request.accept:
            raise status_error(status, headers, now)
        content = await self._read(response, headers)
        digest = hashlib.sha256(content).hexdigest()
        fresh = Validators(headers.get("etag"), headers.get("last-modified"), digest)
        unchanged = request.conditional and status < 300 and validators.body_hash == digest
        result = None if unchanged else Response(str(response.url), status, headers, content)
        return Fetched(result, status, fresh, _ms_since(started), rate_limit_reset(headers, now))

    async def _read(self, response: httpx.Response, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length", "").strip()
        encoding = headers.get("content-encoding", "").strip().lower()
        too_large = FetchError(f"body larger than {size_text(self.max_bytes)}", status=response.status_code)
        if encoding in ("", "identity") and declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large  # said so up front: do not read a byte of it
        parts: list[bytes] = []
        size = 0
        try:
            if response.is_stream_consumed:  # a transport that hands over whole, decoded responses (mocks)
                pieces = decoded(once(response.content), Identity())
            else:
                pieces = decoded(response.aiter_raw(), decoder_for(encoding))
            async for piece in pieces:
                size += len(piece)
                if size > self.max_bytes:
                    raise too_large
                parts.append(piece)
        except DecodeError as exc:
            raise FetchError(one_line(str(exc), 120)) from None
        return b"".join(parts)


@dataclass(frozen=True, slots=True)
class _Hop:
    method: str
    url: httpx.URL
    headers: dict[str, str]
    body: Mapping[str, object] | None


class _HostSlots:
    """At most `per_host` requests at once to one host:port."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}

    async def acquire(self, host: str) -> None:
        slot = self._slots.setdefault(host, asyncio.Semaphore(self.per_host))
        self._users[host] = self._users.get(host, 0) + 1
        try:
            await slot.acquire()
        except BaseException:
            self._forget(host)
            raise

    def release(self, host: str) -> None:
        if host:
            self._slots[host].release()
            self._forget(host)

    def _forget(self, host: str) -> None:
        """Drop a host's semaphore once no one uses it, so weeks over many hosts stay small."""
        self._users[host] -= 1
        if not self._users[host]:
            del self._users[host], self._slots[host]


# --- small pure helpers ---------------------------------------------------------------------------


def _http_url(request: Request) -> httpx.URL:
    try:
        url = httpx.URL(request.url)
        if request.params:
            url = url.copy_merge_params(dict(request.params))
    except (httpx.InvalidURL, TypeError, ValueError):
        raise FetchError("invalid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise FetchError(f"not an http(s) URL: {safe_url(url)}")
    return url


def _proxied() -> bool:
    """Whether the environment names a proxy (HTTP_PROXY...): httpx's own transport goes through it."""
    return any(scheme != "no" for scheme in getproxies())  # NO_PROXY alone names none


def _host_key(url: httpx.URL) -> str:
    return f"{url.host.lower()}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _conditional_headers(validators: Validators) -> dict[str, str]:
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _after_redirect(
    status: int, method: str, body: Mapping[str, object] | None
) -> tuple[str, Mapping[str, object] | None]:
    """303 becomes GET; 301/302 turn a POST into a GET as browsers do; 307/308 keep both."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", None
    return method, body


def _lower_headers(response: httpx.Response) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def status_error(status: int, headers: dict[str, str], now: datetime) -> StatusError:
    waits = [rate_limit_reset(headers, now)]
    if "retry-after" in headers:
        waits.append(parse_retry_after(headers["retry-after"], now))
    found = [w for w in waits if w is not None]
    return StatusError(
        f"HTTP {status} {_phrase(status)}",
        status=status,
        retry_at=max(found) if found else None,
        permanent=status in PERMANENT,
    )


def _phrase(status: int) -> str:
    """The standard reason phrase; the server's own is hostile text and is not repeated."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _ms_since(started: float) -> float:
    return (asyncio.get_running_loop().time() - started) * 1000


def describe_transport_error(exc: httpx.HTTPError, stall_timeout: float) -> str:
    """One clean line for a network failure; never the request, its headers or its query."""
    timeouts = {
        httpx.ConnectTimeout: "connect",
        httpx.ReadTimeout: "read",
        httpx.WriteTimeout: "write",
        httpx.PoolTimeout: "connection pool",
    }
    for kind, what in timeouts.items():
        if isinstance(exc, kind):
            return f"{what} timed out after {stall_timeout:g} s"
    causes = _os_errors(exc)
    if any(isinstance(c, socket.gaierror) for c in causes):
        return "host name not found"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "connection refused"
    if any(isinstance(c, ConnectionResetError) for c in causes):
        return "connection reset by peer"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({one_line(str(exc), 120) or 'no reason given'})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"server broke the HTTP protocol ({one_line(str(exc), 120) or 'connection closed'})"
    if isinstance(exc, httpx.LocalProtocolError):  # h11 quotes the offending header value: not shown
        return "invalid request (a header or the URL cannot be sent)"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return f"connection lost ({one_line(str(exc), 120) or 'closed by peer'})"
    return f"{type(exc).__name__}: {one_line(str(exc), 120)}"


def _os_errors(exc: BaseException) -> list[OSError]:
    """The OS errors behind an httpx error (anyio wraps the real one in a generic OSError)."""
    found: list[OSError] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            found.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return found


def safe_url(url: httpx.URL) -> str:
    """scheme://host/path of a URL for messages: no credentials, no query, no control characters."""
    port = f":{url.port}" if url.port else ""
    return one_line(f"{url.scheme}://{url.host}{port}{url.path}", 120)


def size_text(size: int) -> str:
    for unit, factor in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"
