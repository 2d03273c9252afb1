"""Errors the entry scripts print as one line: UsageError exits 2, StorageError exits 3,
NonFiniteError exits 1."""


class UsageError(Exception):
  """A bad flag, file or workdir: the message names the bad value and what is allowed."""


def check_choice(name, value, allowed):
  """Refuses a value outside `allowed` with one UsageError naming both."""
  if value not in allowed:
    raise UsageError(f'unknown {name} {value!r}; allowed: {", ".join(allowed)}')


class StorageError(Exception):
  """The workdir could not be written; the message says which checkpoints are still intact."""


class NonFiniteError(RuntimeError):
  """Training produced a NaN or Inf; the checkpoints written before it are intact."""


class Interrupted(Exception):
  """SIGTERM or SIGINT stopped training after a checkpoint at the current step; the entry script
  exits with 128 + the signal's number, as a shell reports a process ended by it."""

  def __init__(self, message, signal_number):
    super().__init__(message)
    self.exit_code = 128 + signal_number
