"""What one poll (or ingest chunk) did to the store: apart from monitor.pipeline, so the daemon can
say it for a poll that brought no post without loading the pipeline's text models."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Processed:
    """What one call of `Pipeline.process` did."""

    fresh: int
    """Posts not stored before (matched or not: posts that match no topic are never stored)."""
    stored: int
    """Matched posts newly stored."""
