import os

import jaxlib
import pytest

from gans.run import xla_cpu


@pytest.mark.parametrize('before, after', [
    (None, f'{xla_cpu.FLAG}={xla_cpu.CHOICE}'),
    ('--xla_dump_to=/tmp/x', f'--xla_dump_to=/tmp/x {xla_cpu.FLAG}={xla_cpu.CHOICE}'),
    (f'{xla_cpu.FLAG}=individual_convolution', f'{xla_cpu.FLAG}=individual_convolution'),
])
def test_the_kernel_choice_joins_xla_flags_unless_the_user_chose(monkeypatch, before, after):
  monkeypatch.setattr(jaxlib, '__version__', xla_cpu.MEASURED_JAXLIB[0])
  if before is None:
    monkeypatch.delenv('XLA_FLAGS', raising=False)
  else:
    monkeypatch.setenv('XLA_FLAGS', before)
  xla_cpu.choose_kernels()
  xla_cpu.choose_kernels()  # once only
  assert os.environ['XLA_FLAGS'] == after


def test_an_unmeasured_jaxlib_keeps_xlas_defaults(monkeypatch):
  # XLA aborts on unknown flags, and another jaxlib may not know this one.
  monkeypatch.setattr(jaxlib, '__version__', '99.0.0')
  monkeypatch.setenv('XLA_FLAGS', '--xla_dump_to=/tmp/x')
  xla_cpu.choose_kernels()
  assert os.environ['XLA_FLAGS'] == '--xla_dump_to=/tmp/x'

