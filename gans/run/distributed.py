"""`start(...)`: train.py's --distributed, jax.distributed.initialize with one-line errors.

jax.distributed.initialize() reads only the coordinator's address from the environment; the
process count and this process's id it takes from its arguments or from a cluster it detects
(SLURM, Open MPI, Cloud TPU). Off such a cluster the three settings come from train.py's flags
or, when a flag is not given, from JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID.

JAX reports its own failures badly for a command-line user: a missing setting is a ValueError
traceback, a coordinator port already in use a segfault, and a coordinator it cannot reach a
C++ check failure with a stack trace after a 5-minute wait. So the settings are checked first,
process 0 checks that it can bind the coordinator's port, the others wait (for at most
--distributed_timeout seconds) until the coordinator accepts connections, and each failure is
one UsageError naming the address. What remains JAX's to report is a process that reached the
coordinator while a peer never did: JAX ends it once the same timeout has passed.
"""
import os
import socket
import time

import jax
from absl import logging

from gans.core.errors import UsageError, check_integer

VARIABLES = {'coordinator_address': 'JAX_COORDINATOR_ADDRESS',
             'num_processes': 'JAX_NUM_PROCESSES',
             'process_id': 'JAX_PROCESS_ID'}
GIVE_ALL = ('give --coordinator_address=HOST:PORT, --num_processes and --process_id (or set '
            'JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID)')
RETRY_SECONDS = 0.5


def _setting(flag, value):
  """(value, where it came from): the flag's value, else its environment variable's (an integer
  for the two counts); value None when neither is set."""
  if value is not None:
    return value, f'--{flag}'
  variable = VARIABLES[flag]
  text = os.environ.get(variable)
  if text is None or flag == 'coordinator_address':
    return text, variable
  try:
    return int(text), variable
  except ValueError:
    raise UsageError(f'{variable} must be an integer, got {text!r}') from None


def _host_and_port(address, source):
  host, _, port = address.rpartition(':')
  if not host or not port.isdigit() or not 0 < int(port) < 65536:
    raise UsageError(f'{source} must be HOST:PORT (process 0\'s host and a free port), got '
                     f'{address!r}')
  return host.strip('[]'), int(port)  # '[::1]:1234' names an IPv6 host


def _check_port_free(address, port):
  """JAX's coordinator service crashes the process when its port is taken."""
  try:
    socket.create_server(('', port)).close()
  except OSError as e:
    raise UsageError(f'process 0 cannot serve the coordinator at {address}: port {port} on this '
                     f'host is taken ({e.strerror}); choose another port') from None


def _wait_for_coordinator(address, host, port, deadline, timeout_s):
  """Returns once the coordinator accepts connections; process 0 may start after the others."""
  while True:
    try:
      socket.create_connection((host, port), timeout=RETRY_SECONDS).close()
      return
    except socket.gaierror as e:
      raise UsageError(f'cannot resolve the coordinator host of {address}: {e.strerror}') from None
    except OSError:
      if time.monotonic() >= deadline:
        raise UsageError(f'could not reach the coordinator at {address} within {timeout_s} s '
                         '(--distributed_timeout): is process 0 running there with the same '
                         '--coordinator_address?') from None
      time.sleep(RETRY_SECONDS)


def start(requested, coordinator_address, num_processes, process_id, timeout_s):
  """Joins the multi-process run if `requested` (--distributed): the arguments are the flags'
  values (None: not given); refuses them without --distributed, where they would do nothing."""
  flag_values = {'coordinator_address': coordinator_address, 'num_processes': num_processes,
                 'process_id': process_id}
  if not requested:
    given = [f'--{flag}' for flag, value in flag_values.items() if value is not None]
    if given:
      raise UsageError(f'{", ".join(given)} configure --distributed, which is not given')
    return
  check_integer('--distributed_timeout', timeout_s)
  settings = {flag: _setting(flag, value) for flag, value in flag_values.items()}
  (address, address_source), (count, count_source), (index, index_source) = settings.values()
  if count is not None:
    check_integer(count_source, count)
  if index is not None:
    check_integer(index_source, index, 0, None if count is None else count - 1)
  if address is not None:
    host, port = _host_and_port(address, address_source)
  deadline = time.monotonic() + timeout_s
  if None not in (address, count, index):
    if index == 0:
      _check_port_free(address, port)
    else:
      _wait_for_coordinator(address, host, port, deadline, timeout_s)
    logging.info('Joining the run of %d processes coordinated at %s as process %d', count,
                 address, index)
  try:  # unset settings come from a cluster JAX detects, if it finds one
    jax.distributed.initialize(address, count, index,
                               initialization_timeout=max(1, round(deadline - time.monotonic())))
  except ValueError:  # raised before any connection: a setting neither given nor detected
    missing = [f'--{flag}' for flag, (value, _) in settings.items() if value is None]
    if not missing:
      raise
    raise UsageError(f'--distributed: {", ".join(missing)} not given, and no SLURM, Open MPI '
                     f'or Cloud TPU cluster found to supply it; {GIVE_ALL}') from None
