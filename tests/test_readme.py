"""The README's instructions, followed as a new user would follow them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.support.cli import ROOT, clean_env, monitor

README = (ROOT / "README.md").read_text(encoding="utf-8")
ARTICLE = ("A volcano erupted near Grindavik in Iceland on Monday. The Icelandic Met Office said lava flowed "
           "toward Grindavik, which was evacuated. Grindavik residents waited for news of their homes.\n")


def first_session() -> list[list[str]]:
    """The commands of "one piece at a time", in the README's order, without their comments."""
    block = re.search(r"one piece at a time:\s*```sh\n(.*?)```", README, re.DOTALL)
    assert block, "the README's first session is gone"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line.strip()]


def test_the_first_session_works_in_the_readmes_order_until_it_needs_the_internet(tmp_path: Path) -> None:
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    commands = first_session()
    offline = commands[: next(i for i, argv in enumerate(commands) if argv[1] == "run")]
    assert [argv[1] for argv in offline] == ["keywords", "init", "topics", "test-query"]
    home = clean_env(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    for argv in offline:  # no ./feeds.toml: init makes the user's own, and the others find it
        done = monitor(*argv[1:], cwd=tmp_path, env=home)
        assert done.returncode == 0, f"{shlex.join(argv)}: {done.stderr}"
        assert done.stdout.strip(), f"{shlex.join(argv)} said nothing"
    assert (tmp_path / "config" / "monitor" / "feeds.toml").is_file() and not (tmp_path / "feeds.toml").exists()


def test_the_readme_says_how_to_get_monitor_on_the_path() -> None:
    section = README.split("## Getting `monitor` on your PATH", 1)[1].split("\n## ", 1)[0]
    assert ".venv/bin/monitor" in section and "pipx install ." in section
    assert re.search(r"^\$\(BIN\)/monitor:", (ROOT / "Makefile").read_text(), re.MULTILINE), \
        "`make install` is what makes .venv/bin/monitor"
