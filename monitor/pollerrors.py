"""Why one poll of one feed failed: one tree of exceptions, stdlib only.

    PollError              a poll failed; str(error) is one printable line, safe to log and store
    ├── FetchError         the HTTP exchange failed: no connection, a timeout, a bad redirect,
    │   │                  a body over the size cap or one that will not decode (monitor.fetch)
    │   └── StatusError    the server answered with an error status
    ├── FeedError          the response is not what the source reads: not a feed, an API error
    │                      body, a missing field (monitor.sources)
    ├── NotConfigured      the feed cannot be polled as configured: a credential's environment
    │                      variable is unset, a search without a login. Not the server's fault, so
    │                      not backed off: the daemon sets the feed aside and re-checks it at its next start
    └── InternalError      anything else an adapter raised (a bug), wrapped so the daemon goes on

Every PollError has the same three fields, so the decisions after a failure (monitor.feedstate)
read them without asking which kind it is:

- `status`: the HTTP status the failure came with (a StatusError's, a redirect's), else None;
- `retry_at`: when the server said to ask again (Retry-After, an exhausted rate limit), else None;
- `permanent`: asking again soon cannot help (401/403/404/410): back off hard.
"""

from __future__ import annotations

from datetime import datetime


class PollError(Exception):
    """A poll of one feed failed; the message is one line without secrets, request headers or queries."""

    status: int | None = None
    retry_at: datetime | None = None
    permanent: bool = False


class FetchError(PollError):
    """The HTTP exchange failed before a usable response (network, timeout, redirects, size, decoding)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class StatusError(FetchError):
    """The server answered with an error status; `retry_at` and `permanent` come from its headers and code."""

    def __init__(self, message: str, *, status: int, retry_at: datetime | None = None, permanent: bool = False) -> None:
        super().__init__(message, status=status)
        self.retry_at = retry_at
        self.permanent = permanent


class FeedError(PollError):
    """The response could not be turned into posts; the message says why, in one line."""


class NotConfigured(PollError):
    """The feed lacks something only its configuration can give (a credential, a login name)."""


class InternalError(PollError):
    """An unexpected exception inside an adapter; its traceback is logged at DEBUG only."""

    @classmethod
    def wrapping(cls, error: BaseException) -> InternalError:
        return cls(f"internal error: {type(error).__name__}: {error}")
