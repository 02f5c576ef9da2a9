"""Persistence for monitor: tables, engine setup, migrations and the `Store`.

Import `Store` from `storage.store`; this package root stays free of SQLAlchemy so the core rooms
can use the value types in `storage.types` without loading a database driver.
"""
