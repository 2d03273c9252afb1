"""Errors caused by what the user asked for; entry scripts print them as one line and exit 2."""


class UsageError(Exception):
  """A bad flag, file or workdir: the message names the bad value and what is allowed."""
