"""Errors the entry scripts print as one line: UsageError exits 2, StorageError exits 3,
NonFiniteError exits 1."""


class UsageError(Exception):
  """A bad flag, file or workdir: the message names the bad value and what is allowed."""


def check_choice(name, value, allowed):
  """Refuses a value outside `allowed` with one UsageError naming both."""
  if value not in allowed:
    raise UsageError(f'unknown {name} {value!r}; allowed: {", ".join(allowed)}')


def check_integer(name, value, low=1, high=None):
  """Refuses anything but an integer (not a bool) in [low, high]; no upper bound if high is
  None."""
  if not (isinstance(value, int) and not isinstance(value, bool) and value >= low
          and (high is None or value <= high)):
    allowed = (f'an integer in [{low}, {high}]' if high is not None
               else 'a positive integer' if low == 1 else f'an integer >= {low}')
    raise UsageError(f'{name} must be {allowed}, got {value!r}')


def is_number(value) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_non_negative(name, value):
  if not (is_number(value) and value >= 0):
    raise UsageError(f'{name} must be >= 0, got {value!r}')


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
