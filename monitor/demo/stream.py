"""The sample stream: a made-up story of a closed bridge, told by four feeds over about four minutes.

Written for the demo (no third-party text). It forms a few stories: the closure itself (carried
near-verbatim by two wires: near-duplicates), the ferries, the commute, and a burst of reaction to
a leaked report around the two-minute mark (the spike). A few posts match no topic and are
dropped, and one carries markup and escape sequences to show that they stay text.
"""

from __future__ import annotations

from dataclasses import dataclass

TOPIC = "Port Alder bridge"
KEYWORDS = ("Port Alder", "bridge", "ferry", "ferries", "span")
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
        ("mara_k", "So the bridge cracks were known since 2019? Unbelievable."),
        ("tjensen", "Leaked report says the span cracks were flagged in 2019. Who sat on this?"),
        ("porthist", "The 2019 bridge inspection report is out. Read page 14 on the main span."),
        ("ella.w", "2019 report warned about the bridge span. I drive over it every day."),
        ("nightferry", "If the bridge report from 2019 is real, someone owes Port Alder answers."),
        ("dr_okafor", "Engineer here: the cracks in the 2019 report match what closed the bridge."),
        ("sam_b", "Bridge cracks flagged in 2019, closed in 2025. Six years."),
        ("lowtide", "Port Alder council knew about the bridge span in 2019, says leaked report."),
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
    Item(15, "forum", "oldsalt", "", "Anyone know how long the bridge will be shut? Cracks in the span?"),
    Item(20, "wire", "Wire Desk", "Local bakery wins regional award",
         "A family bakery on Quay Street won the regional bread prize."),
    Item(30, "herald", "Herald Staff", "Extra ferries to run while Port Alder bridge is shut",
         "The harbour authority will add three ferries an hour across the estuary while the bridge is shut."),
    Item(36, "wire", "Wire Desk", "Extra ferries to run while Port Alder bridge is shut",
         "The harbour authority will add three ferries an hour across the estuary while the bridge stays shut."),
    Item(45, "social", "ferryfan", "", "Extra ferries from the harbour every 20 minutes while the bridge is shut."),
    Item(55, "forum", "[bold red]admin[/]", "",
         "[bold red]URGENT[/] \x1b[31mferry\x1b[0m timetable \x1b]8;;http://evil.example\x07here\x1b]8;;\x07 "
         "— the bridge ferries run from pier 3 \u202eesrever\u202c \u200b🚢"),
    Item(70, "social", "commuter_jo", "", "Commute took two hours. Detour around the closed bridge is a mess."),
    Item(78, "forum", "cyclist22", "", "Long detours around the closed Port Alder bridge for everyone on bikes."),
    Item(90, "herald", "Herald Staff", "Commuters face long detours around closed bridge",
         "Drivers reported two-hour commutes on the detour around the closed Port Alder bridge."),
    Item(100, "wire", "Wire Desk", "Weather: storm expected on Friday", "A storm front is expected on Friday."),
    *_burst(120),
    Item(125, "wire", "Wire Desk", "Report: bridge cracks were flagged in 2019",
         "A 2019 inspection report seen by the wire flagged cracks in the Port Alder bridge's main span."),
    Item(131, "herald", "Herald Staff", "Report: bridge cracks flagged in 2019",
         "A 2019 inspection report flagged cracks in the Port Alder bridge's main span, the Herald has seen."),
    Item(170, "herald", "Herald Staff", "Council to hold emergency meeting on the bridge",
         "Port Alder council will hold an emergency meeting on the bridge on Thursday evening."),
    Item(185, "social", "lowtide", "", "Emergency council meeting on the bridge Thursday. Be there."),
    Item(200, "wire", "Wire Desk", "Ferries to run through the night while bridge is shut",
         "Ferries will run through the night across the estuary while the Port Alder bridge stays shut."),
    Item(215, "forum", "oldsalt", "", "Night ferries now too. The bridge is going to be shut for months."),
    Item(235, "wire", "Wire Desk", "Port Alder bridge to stay closed for at least six months",
         "Engineers say the Port Alder bridge will stay closed for at least six months while the span is repaired."),
    Item(240, "herald", "Herald Staff", "Bridge to stay closed for at least six months",
         "The Port Alder bridge will stay closed for at least six months while the main span is repaired."),
], key=lambda item: item.at))
