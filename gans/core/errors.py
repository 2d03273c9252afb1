"""Errors the entry scripts print as one line: UsageError exits 2, StorageError exits 3."""


class UsageError(Exception):
  """A bad flag, file or workdir: the message names the bad value and what is allowed."""


class StorageError(Exception):
  """The workdir could not be written; the message says which checkpoints are still intact."""
