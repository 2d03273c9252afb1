"""What every entry point does first, before JAX starts its backend: `startup.prepare()`.

- XLA:CPU's kernel choice (gans.run.xla_cpu), which must be in XLA_FLAGS before the backend starts;
- orbax's per-save and per-load INFO lines kept out of the logs (its warnings still show);
- JAX's INFO line on each backend it probes and does not find ("Unable to initialize backend
  'tpu': ... Failed to open libtpu.so" on every CPU or GPU machine), which reads as a failure. A
  backend the user asked for (JAX_PLATFORMS) and JAX cannot start is still an error.
"""
import logging as std_logging

from absl import logging

from gans.run import xla_cpu

PROBE_MESSAGE = 'Unable to initialize backend'


def _is_shown(record) -> bool:
  if record.levelno > std_logging.INFO:
    return True
  if 'orbax' in record.pathname:
    return False
  return not (record.name == 'jax._src.xla_bridge' and
              record.getMessage().startswith(PROBE_MESSAGE))


def prepare():
  """Call first in main(): after absl set up logging, before anything starts JAX's backend.
  Calling it again changes nothing."""
  xla_cpu.choose_kernels()
  handler = logging.get_absl_handler()
  if _is_shown not in handler.filters:
    handler.addFilter(_is_shown)
