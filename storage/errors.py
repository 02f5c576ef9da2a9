"""The one exception storage raises: driver errors are wrapped into it at the Store boundary."""


class StorageError(Exception):
    """A one-line description of what went wrong with the database."""
