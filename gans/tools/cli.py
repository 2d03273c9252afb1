"""The command-line convention of the tools (and, if they like, of train.py and evaluate.py).

A program's absl flags are defined by its `define_flags()`, which only `run_main` calls, so
importing a module defines no flag (a test or another program may import any of them). Bad
input, whether a flag absl refuses or a value the program refuses, is one line on stderr:

  error: <what is wrong and what is allowed>

with exit status 2 for a UsageError (and for flags absl cannot parse), 3 for a StorageError and
1 for any other error type the program names. A program takes no positional arguments.

  def define_flags():
    flags.DEFINE_integer('steps', 20, '...')

  def main():
    ...  # raises UsageError on bad input

  if __name__ == '__main__':
    cli.run_main(main, define_flags)
"""
import sys
from typing import Callable, NoReturn, Optional, Tuple, Type

from absl import app, flags

from gans.core.errors import StorageError, UsageError

EXIT_CODES = {UsageError: 2, StorageError: 3}


def fail(error: Exception) -> NoReturn:
  """Prints `error: <message>` as one line on stderr and exits with the error's status."""
  message = ' '.join(str(error).split())  # one line, whatever the message holds
  print(f'error: {message}', file=sys.stderr, flush=True)
  sys.exit(next((code for kind, code in EXIT_CODES.items() if isinstance(error, kind)), 1))


def _parse_flags(argv):
  """absl's parse, with a bad flag reported as a UsageError rather than absl's 'FATAL' lines."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(UsageError(e))


def run_main(main: Callable[[], None], define_flags: Optional[Callable[[], None]] = None,
             other_errors: Tuple[Type[Exception], ...] = ()):
  """Defines the flags, parses them and runs `main()` under absl's app.run (logging set up, so
  progress lines show), turning UsageError (exit 2), StorageError (exit 3) and `other_errors`
  (exit 1; train.py's NonFiniteError, say) into one `error:` line."""
  if define_flags is not None:
    define_flags()

  def run(argv):
    try:
      if len(argv) > 1:
        raise UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
      main()
    except (UsageError, StorageError, *other_errors) as e:
      fail(e)

  app.run(run, flags_parser=_parse_flags)
