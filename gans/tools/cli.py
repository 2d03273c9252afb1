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
import re
import sys
import traceback
from typing import Callable, NoReturn, Optional, Tuple, Type

from absl import app, flags
from ml_collections.config_flags import config_path

from gans.core.errors import StorageError, UsageError

EXIT_CODES = {UsageError: 2, StorageError: 3}


def fail(error: Exception) -> NoReturn:
  """Prints `error: <message>` as one line on stderr and exits with the error's status."""
  message = ' '.join(str(error).split())  # one line, whatever the message holds
  print(f'error: {message}', file=sys.stderr, flush=True)
  sys.exit(next((code for kind, code in EXIT_CODES.items() if isinstance(error, kind)), 1))


CONFIG_FILE_HELP = ('a Python file whose get_config() returns the config, such as '
                    'gans/configs/mlp.py')


def _argument(argv, matches, default):
  """The first argument of argv that `matches` (a flag name's test), for the error line."""
  return next((arg for arg in argv[1:] if arg.startswith('--') and matches(arg.split('=')[0])),
              default)


def _short_flag_error(error: flags.Error) -> str:
  """absl's message, less the traceback ml_collections puts in it when get_config() raises."""
  message = str(error)
  if 'Error whilst parsing config file' in message:
    flag = message.split(':', 1)[0].removeprefix('flag ')
    cause = [line.strip() for line in message.splitlines() if line.strip()][-1]
    return f'{flag}: loading it raised {cause}'
  return message


def _unknown_field(argv, error: Exception) -> Optional[str]:
  """The error line of an override naming no field, from ml_collections' KeyError (or the
  AttributeError around one): "'FIELD'" and perhaps its own 'Did you mean "NAME"' hint, or, for a
  field under a value that is no ConfigDict, "Attribute <class 'TYPE'>.FIELD does not exist ...".
  None when the error was not raised resolving an override's path (get_config() raised it)."""
  if not any(frame.filename == config_path.__file__
             for frame in traceback.extract_tb(error.__traceback__)):
    return None
  cause = error.args[0] if error.args and isinstance(error.args[0], KeyError) else error
  text = str(cause.args[0]) if cause.args else ''
  named = re.fullmatch(r"'([^']+)'(?:\nDid you mean \"([^\"]+)\".*)?", text, re.DOTALL)
  under_value = re.match(r"Attribute <class '(\w+)'>\.(\w+) does not exist", text)
  field = named.group(1) if named else under_value.group(2) if under_value else None
  override = _argument(argv, lambda name: field in name.split('.')[1:], None)
  if field is None or override is None:
    return None
  name = override.split('=')[0]
  path = name.split('.')[1:]
  parents = path[:path.index(field)]
  if under_value:
    return (f'{name}: the config\'s {".".join(parents)} is of type {under_value.group(1)}, '
            f'which has no field {field!r}')
  hint = named.group(2)
  return (f'{name}: the config has no field {".".join(parents + [field])!r}'
          + (f'; did you mean {".".join(parents + [hint])!r}?' if hint else ''))


def _config_error(argv, error: Exception) -> str:
  """The error line of an exception raised while ml_collections loads a config file or applies
  a --config.FIELD=VALUE override: the override that names no field, else the file."""
  if isinstance(error, (AttributeError, KeyError)):
    unknown_field = _unknown_field(argv, error)
    if unknown_field:
      return unknown_field
  config = _argument(argv, lambda name: name == '--config', '--config')
  return (f'{config}: loading it raised {type(error).__name__}: {error}; give '
          f'{CONFIG_FILE_HELP}')


def _check_config_files():
  """ml_collections defers a config file it cannot read until the config is used: find it now."""
  for name in flags.FLAGS:
    flag = flags.FLAGS[name]
    if hasattr(flag, 'config_filename') and flag.present:  # ml_collections' config file flags
      try:
        getattr(flag.value, 'lock')
      except OSError as e:
        cause = re.findall(r'\[Errno \d+\] [^\n]*', str(e))
        raise UsageError(f'--{name}={flag.config_filename}: cannot load it '
                         f'({cause[-1] if cause else e}); give {CONFIG_FILE_HELP}') from None


def _parse_flags(argv):
  """absl's parse, with a bad flag or config file reported as a UsageError rather than absl's
  'FATAL' lines or a traceback."""
  try:
    remaining = flags.FLAGS(argv)
    _check_config_files()
    return remaining
  except flags.Error as e:
    fail(UsageError(_short_flag_error(e)))
  except UsageError as e:
    fail(e)
  except Exception as e:  # a config file that does not load, or an override naming no field
    fail(UsageError(_config_error(argv, e)))


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
