"""Errors the CLI reports as one clear line (exit code 2) instead of a traceback."""


class CLIError(Exception):
    """A user-facing error: bad arguments, missing files, unknown names."""
