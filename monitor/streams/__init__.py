"""Live streams beside the scheduler's tick: each streamed feed (a kind with `TYPE.live`) is a
long-lived task that reads frames as they come, matches each post against the topics before any
other work, and hands what matched to the daemon's pipeline through its single writer.

    wire.py     the connections: a WebSocket, or server-sent events; failures as FetchErrors
    backlog.py  matched posts waiting for the store, bounded, and where the stream stands (pure)
    meter.py    counts and rates for `monitor status` (pure)
    authors.py  handles for the posts that matched, looked up beside the stream, cached
    runner.py   the tasks: connect, read, reconnect with backoff; store in batches
"""
