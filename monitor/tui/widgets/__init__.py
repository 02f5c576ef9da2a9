"""The dashboard's widgets, each with its CSS beside it."""
