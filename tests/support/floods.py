"""A small flood topic and posts its own terms match confidently, each tagged #COFlood: what the
learning tests teach with (written for this project)."""

from __future__ import annotations

from monitor.config import Topic

FLOODS = Topic(
    "floods", query="Boulder OR Lyons OR flood OR floods OR flooding", threshold=1.0,
    weights={"Boulder": 0.6, "Lyons": 1.0, "flood OR floods OR flooding": 0.5},
)
FLOODS_TOML = """[[topics]]
name = "floods"   # made by hand
query = 'Boulder OR Lyons OR flood OR floods OR flooding'
threshold = 1.0

[topics.weights]
Boulder = 0.6
Lyons = 1.0
"flood OR floods OR flooding" = 0.5
"""
CONFIDENT = [
    "Flooding in Boulder tonight, roads closed #COFlood",
    "Boulder creek flooding near the library #COFlood",
    "Lyons cut off, residents waiting on higher ground #COFlood",
    "Boulder flood update from the sheriff #COFlood",
    "Evacuations in Lyons as the creek rises #COFlood",
    "Floods reach the Boulder campus #COFlood",
]
