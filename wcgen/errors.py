"""Errors that stop a run before any work starts, each with a one-line fix.

The launchers catch these and print `error: <message>` on one line (no
traceback), so every message must say what is wrong and what to do.
"""


class WcgenError(Exception):
  """Base class: a problem the user can fix."""


class ConfigError(WcgenError, ValueError):
  """A config value is out of range, of the wrong type, or unknown."""


class DataError(WcgenError, OSError):
  """A data file is missing, truncated or in the wrong format."""


class DivergedError(WcgenError, FloatingPointError):
  """Training produced non-finite losses; the last checkpoint is intact."""
