"""Alembic migrations, applied programmatically by storage.migrate (no alembic.ini at runtime)."""
