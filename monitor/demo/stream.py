"""The sample stream: a made-up story of a closed bridge, told by four feeds over about four minutes.

Written for the demo (no third-party text). It forms a few stories: the closure itself (carried
near-verbatim by two wires: near-duplicates), the ferries, the commute, and a burst of reaction to
a leaked report around the two-minute mark (the spike). A few posts match no topic and are
dropped, and one carries markup and escape sequences to show that they stay text.
"""

from __future__ import annotations

from dataclasses import dataclass

TOPIC = "Port Alder bridge"
KEYWORDS = ("Port Alder", "bridge", "ferry", "ferries", "detour", "inspection report", "council meeting")
FEEDS = ("wire", "herald", "social", "forum")


@dataclass(frozen=True, slots=True)
class Item:
    at: float  # seconds after the demo starts
    feed: str
    author: str
    title: str
    text: str


def _burst(start: float) -> list[Item]:
    """Two dozen reactions to the leaked report within half a minute: the spike."""
    voices = [
        ("mara_k", "So the cracks were known since 2019? The inspection report is unbelievable."),
        ("tjensen", "Leaked 2019 inspection report flagged the cracks. Who sat on this?"),
        ("porthist", "The 2019 inspection report is out. Read page 14 on the cracks."),
        ("ella.w", "2019 inspection report warned about those cracks. Six years of silence."),
        ("nightferry", "If the 2019 inspection report is real, someone owes us answers."),
        ("dr_okafor", "Engineer here: the cracks in the 2019 inspection report are the same ones."),
        ("sam_b", "Cracks flagged in the 2019 inspection report, closed in 2025. Six years."),
        ("lowtide", "They knew in 2019, says the leaked inspection report on the cracks."),
    ]
    items = []
    for round_ in range(3):
        for i, (author, text) in enumerate(voices):
            feed = "social" if (i + round_) % 3 else "forum"
            suffix = ("", " #PortAlder", " Thread below.")[round_]
            items.append(Item(start + round_ * 9 + i, feed, author, "", text + suffix))
    return items


ITEMS: tuple[Item, ...] = tuple(sorted([
    Item(0, "wire", "Wire Desk", "Port Alder bridge closed after cracks found in main span",
         "Engineers closed the Port Alder bridge on Tuesday after inspectors found cracks in its main span."),
    Item(4, "herald", "Herald Staff", "Port Alder bridge closed after cracks found in the main span",
         "Engineers closed the Port Alder bridge on Tuesday after inspectors found cracks in the main span."),
    Item(8, "social", "harbourwatch", "",
         "Police tape across the Port Alder bridge this morning. Cracks in the main span, they say."),
    Item(15, "forum", "oldsalt", "", "Anyone know how long the Port Alder bridge will be closed? Cracks in the span?"),
    Item(20, "wire", "Wire Desk", "Local bakery wins regional award",
         "A family bakery on Quay Street won the regional bread prize."),
    Item(30, "herald", "Herald Staff", "Extra ferries across the estuary every twenty minutes",
         "The harbour authority will add three ferries an hour across the estuary, from pier 3."),
    Item(36, "wire", "Wire Desk", "Extra ferries across the estuary every twenty minutes",
         "The harbour authority will add three ferries an hour across the estuary, leaving from pier 3."),
    Item(45, "social", "ferryfan", "", "Extra ferries from pier 3 every twenty minutes. Estuary crossing is lovely."),
    Item(55, "forum", "[bold red]admin[/]", "",
         "[bold red]URGENT[/] \x1b[31mferry\x1b[0m timetable \x1b]8;;http://evil.example\x07here\x1b]8;;\x07 "
         "— ferries from pier 3 \u202eesrever\u202c \u200b🚢"),
    Item(70, "social", "commuter_jo", "", "Commute took two hours today. The detour through Millbrook is a mess."),
    Item(78, "forum", "cyclist22", "", "The Millbrook detour is two hours of traffic for everyone on bikes too."),
    Item(90, "herald", "Herald Staff", "Drivers face two-hour commute on Millbrook detour",
         "Drivers reported two-hour commutes and traffic queues on the Millbrook detour."),
    Item(100, "wire", "Wire Desk", "Weather: storm expected on Friday", "A storm front is expected on Friday."),
    *_burst(120),
    Item(125, "wire", "Wire Desk", "2019 inspection report flagged the cracks",
         "A 2019 inspection report seen by the wire flagged the same cracks, six years ago."),
    Item(131, "herald", "Herald Staff", "2019 inspection report flagged cracks",
         "A 2019 inspection report flagged the same cracks six years ago, the Herald has seen."),
    Item(170, "herald", "Herald Staff", "Council meeting called for Thursday evening",
         "The town council will hold an emergency council meeting on Thursday evening at the town hall."),
    Item(185, "social", "lowtide", "", "Emergency council meeting Thursday at the town hall. Be there."),
    Item(200, "wire", "Wire Desk", "Night ferries to run across the estuary",
         "Night ferries will run across the estuary from pier 3 until further notice."),
    Item(215, "forum", "oldsalt", "", "Night ferries from pier 3 now too. Good."),
    Item(235, "wire", "Wire Desk", "Port Alder bridge to stay closed for at least six months",
         "Engineers say the Port Alder bridge will stay closed for at least six months while the span is repaired."),
    Item(240, "herald", "Herald Staff", "Port Alder bridge to stay closed for six months",
         "The Port Alder bridge will stay closed for at least six months while the main span is repaired."),
], key=lambda item: item.at))
