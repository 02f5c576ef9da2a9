"""Errors that end a command with one line on stderr and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: a missing file, a bad argument, an unreadable article."""
