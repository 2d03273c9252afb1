"""Errors the entry scripts print as one line: UsageError exits 2, StorageError exits 3,
NonFiniteError exits 1."""


class UsageError(Exception):
  """A bad flag, file or workdir: the message names the bad value and what is allowed."""


class StorageError(Exception):
  """The workdir could not be written; the message says which checkpoints are still intact."""


class NonFiniteError(RuntimeError):
  """Training produced a NaN or Inf; the checkpoints written before it are intact."""
