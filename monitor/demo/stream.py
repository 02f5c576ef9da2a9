"""The sample stream: reaction to the bundled article (Iran's message to Hamas), told by four feeds.

Written for the project (no third-party text). Within the first minute it forms several stories:
the report itself (carried near-verbatim by two wires, which fold as duplicates) and a burst of
reaction to it (the spike); a rally in Isfahan that restaged the attack on the Nova festival and
criticism of the White House's Iran policy (posts like the two the original article quotes); the
Biden–Xi meeting. Later come the denial, the Israeli view and the northern border, at a slower pace,
for several minutes. A football score shares one word with the article ("Iran") and stays out; a few
posts match nothing; one carries markup and escape sequences to show that they stay text.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

FEEDS = ("wire", "herald", "social", "forum")


@dataclass(frozen=True, slots=True)
class Item:
    at: float  # seconds after the demo starts
    feed: str
    author: str
    title: str
    text: str


def article() -> str:
    """The article the demo starts from, bundled with the package."""
    return files("monitor.demo").joinpath("article.txt").read_text(encoding="utf-8")


def _burst(start: float) -> list[Item]:
    """A dozen reactions to the report within half a minute: the spike."""
    voices = [
        ("levant_watch", "So Khamenei told Haniyeh face to face: Iran is not coming to fight this war."),
        ("dana_r", "If the Reuters report holds, Khamenei just left Haniyeh on his own. Big if."),
        ("mideast_desk", "Khamenei to Haniyeh, per Reuters: you started it without us, we stay out."),
        ("omar.k", "Khamenei telling Haniyeh that Tehran will not join is the story of the week."),
        ("policy_nerd", "The Khamenei-Haniyeh meeting readout, if true, changes the whole regional picture."),
        ("jmiller", "Reuters: Khamenei rebuked Haniyeh over the attack. Tehran is keeping its distance."),
    ]
    items = []
    for round_, suffix in enumerate(("", " #Iran")):
        for i, (author, text) in enumerate(voices):
            feed = "social" if (i + round_) % 3 else "forum"
            items.append(Item(start + round_ * 12 + i * 2, feed, author, "", text + suffix))
    return items


ITEMS: tuple[Item, ...] = tuple(sorted([
    # The report, carried by two wires almost word for word: one story, the second copy folded.
    Item(0, "wire", "Wire Desk", "Khamenei told Haniyeh Iran will not join the war, sources say",
         "Iran's supreme leader Ali Khamenei told Hamas leader Ismail Haniyeh in Tehran that Iran would not "
         "enter the war on Hamas' behalf, Western intelligence sources said."),
    Item(3, "herald", "Herald Staff", "Khamenei told Haniyeh Iran will not join the war, sources say",
         "Iran's supreme leader Ali Khamenei told Hamas leader Ismail Haniyeh in Tehran that Iran will not "
         "enter the war on Hamas' behalf, Western intelligence sources say."),
    # Like the article's second quoted post: the rally in Isfahan.
    Item(6, "social", "isfahan_eye", "",
         "In Isfahan today a rally restaged the Hamas attack on the Nova festival, Hezbollah flags everywhere."),
    Item(11, "forum", "gulf_notes", "",
         "Video from Isfahan: crowds restage the Nova festival attack with Hamas fighters and a Hezbollah flag."),
    *_burst(14),
    # Like the article's first quoted post: the White House's Iran policy called appeasement.
    Item(18, "social", "capitol_critic", "",
         "Joe Biden's team never held the Islamic Republic to account for arming #Hamas. Appeasement, all day long."),
    Item(24, "forum", "ret_colonel", "",
         "Three years of Joe Biden and his appeasement, and the Islamic Republic still bankrolls Hamas."),
    Item(21, "wire", "Wire Desk", "Football: Iran beat Japan 2-1 to reach the Asian Cup semi-final",
         "Iran came from behind to beat Japan 2-1 and reach the semi-final of the Asian Cup."),
    Item(28, "herald", "Herald Staff", "Isfahan rally restages the Nova festival attack",
         "A rally in Isfahan restaged the Hamas attack on the Nova music festival under the flag of Hezbollah."),
    Item(33, "wire", "Wire Desk", "Xi relays a no-escalation pledge after meeting Biden",
         "After Biden met Xi Jinping in California, Chinese diplomats said Iran had pledged not to escalate "
         "unless attacked."),
    Item(38, "herald", "Herald Staff", "Weather: a storm front reaches the coast on Friday",
         "Forecasters expect a storm front to reach the coast on Friday evening."),
    Item(44, "social", "asia_hand", "",
         "Xi Jinping carrying Iran's no-escalation pledge to Biden in California is quite the back channel."),
    Item(52, "forum", "capitol_critic", "",
         "Joe Biden calls it diplomacy, I call it appeasement: the mullahs fund Hamas and pay no price."),
    Item(57, "forum", "[bold red]admin[/]", "",
         "[bold red]PINNED[/] \x1b[31mHamas\x1b[0m and Hezbollah thread "
         "\x1b]8;;http://evil.example\x07here\x1b]8;;\x07 — Khamenei news below \u202eesrever\u202c \u200b📌"),
    # Later, at a slower pace.
    Item(75, "wire", "Wire Desk", "Hamas denies report of Khamenei rebuke",
         "Hamas denied a report that Khamenei rebuked Haniyeh in Tehran, calling it fabricated."),
    Item(84, "social", "dana_r", "", "Hamas denies the Khamenei-Haniyeh report. Of course it does."),
    Item(100, "herald", "Herald Staff", "Israeli officials call Iranian message credible",
         "Israeli security officials said the Iranian message looked credible but warned Hezbollah could "
         "still open the northern front from Lebanon."),
    Item(104, "wire", "Wire Desk", "Israeli officials call Iranian message credible",
         "Israeli security officials say the Iranian message looks credible but warn Hezbollah could still "
         "open the northern front from Lebanon."),
    Item(120, "social", "galilee_mom", "",
         "Credible or not, Hezbollah drones still cross into Israeli towns on the northern border. Lebanon is close."),
    Item(140, "wire", "Wire Desk", "Tehran stock exchange closes higher",
         "Shares in Tehran closed higher on Thursday, led by petrochemicals."),
    Item(150, "forum", "asia_hand", "",
         "Beijing as Iran's messenger to Biden: Xi Jinping gets to play the peacemaker in California."),
    Item(170, "herald", "Herald Staff", "Hezbollah fires on northern Israel; army answers in Lebanon",
         "Hezbollah fired anti-tank missiles at two border posts and the Israeli army struck back in "
         "southern Lebanon."),
    Item(200, "forum", "ret_colonel", "",
         "Appeasement again: Joe Biden thanks the mullahs for not attacking while Hamas keeps the hostages."),
    Item(225, "wire", "Wire Desk", "Isfahan rally draws criticism abroad",
         "Footage of the Isfahan rally restaging the Nova festival attack drew criticism in Europe; Hamas "
         "and Hezbollah flags were carried through the square."),
    Item(250, "social", "gulf_notes", "",
         "Hamas' Haniyeh leaves Tehran without a promise, and Khamenei's axis of resistance stays home."),
    Item(280, "herald", "Herald Staff", "Analysis: the axis of resistance at its limits",
         "Khamenei's refusal shows the limits of the axis of resistance: Hezbollah, Hamas and Tehran do not "
         "share one plan."),
    Item(300, "forum", "policy_nerd", "",
         "Good read on the axis of resistance: Khamenei protects Iran first, Hamas second."),
], key=lambda item: item.at))
