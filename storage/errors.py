"""The one exception storage raises: driver errors are wrapped into it at the Store boundary."""


class StorageError(Exception):
    """A one-line description of what went wrong with the database."""


class NoDatabaseYet(StorageError):
    """A reader found no monitor database where the config points: nothing has run there yet."""
