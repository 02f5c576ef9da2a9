"""The composition root: parse arguments, dispatch to a command, turn known errors into one line."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from monitor import __version__, logs
from monitor.commands import listed, load
from monitor.config import ConfigError, default_path
from monitor.errors import UsageError
from monitor.textsafe import one_line

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line on stderr and exit code 2 (argparse's default prints the usage too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {one_line(message)} (see {self.prog} --help)\n")


class _CommandParser(_Parser):
    """A command's parser, configured by the command's module when it parses: `monitor status` imports
    the status module (and what it imports) alone, not every command's."""

    module: str | None = None
    """The command's module until it is loaded (None for an action's parser inside a command)."""

    def parse_known_args(self, args: Iterable[str] | None = None, namespace: Any = None) -> tuple[Any, list[str]]:
        if self.module is not None:
            command, self.module = load(self.module), None
            command.configure(self)
            self.set_defaults(run=command.run)
        return super().parse_known_args(args, namespace)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="monitor", description="Watch feeds and social media for an article's story.")
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    _global_options(parser)
    common = _CommandParser(add_help=False)  # the options each command's parser takes too
    _global_options(common)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_CommandParser)
    for command in listed():
        p = sub.add_parser(command.name, help=command.help, description=command.help, parents=[common])
        p.module = command.module
    return parser


def _global_options(parser: argparse.ArgumentParser) -> None:
    """Options taken before the command and after it. SUPPRESS: a command's parser leaves unset what
    it was not given, so `monitor --config X status` keeps X (the value after the command wins)."""
    parser.add_argument(
        "--config", type=_path, default=argparse.SUPPRESS, metavar="PATH",
        help="feeds.toml to use (default: ./feeds.toml, else $MONITOR_CONFIG)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log debug detail to stderr")
    parser.add_argument("--log-format", choices=("text", "json"), default=argparse.SUPPRESS,
                        help="the log on stderr: text lines (default) or one JSON object per line")


def main(argv: Sequence[str] | None = None) -> int:
    from storage.errors import StorageError

    parser = build_parser()
    args = parser.parse_args(argv)
    args.config = getattr(args, "config", None) or default_path()
    args.verbose = getattr(args, "verbose", False)
    logs.to_stderr(args.verbose, as_json=getattr(args, "log_format", "text") == "json")
    try:
        code: int = args.run(args)
    except (ConfigError, StorageError, UsageError) as e:
        # Messages may quote feeds.toml or a file's text: one printable line, whatever they hold.
        print(f"monitor: {one_line(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return code


YOUNG_OBJECTS = 10_000
"""Container objects allocated between two collections of the youngest generation (CPython: 700)."""


def entry() -> NoReturn:
    """The process's entry (the `monitor` script, `python -m monitor.cli`). The objects the imports
    made live until the exit, where the interpreter's last collections would walk them all (~80 ms,
    a tenth of a warm `run --once`): frozen, they are left to the process's end."""
    _without_httpx_cli()
    # Every post leaves dozens of short-lived tuples and dicts, which reference counting frees; at
    # CPython's 700 the collector walked them anyway, 277 times in bench/poll.py's cold `run --once`
    # (123 at this setting): its CPU -5 %, an ingest's -3 %. Only garbage in cycles waits longer.
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    code = main()
    gc.freeze()
    sys.exit(code)


def _without_httpx_cli() -> None:
    """`import httpx` imports httpx's own command-line client (click, rich, pygments: ~35 ms, a
    twentieth of a warm `run --once`) unless that import fails, when it puts a stub in its place
    (encode/httpx#3547). monitor never runs it; a None in sys.modules makes that import fail."""
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _path(value: str) -> object:
    from pathlib import Path

    return Path(value)


if __name__ == "__main__":
    entry()
