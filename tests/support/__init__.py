"""Helpers the tests (and bench/) share: a real HTTP server, the command line as a subprocess,
feeds written for tests, a daemon over a real socket with a fake clock, dashboard stores.

Test modules import from here, never from one another.
"""
