"""train.py --distributed as two local processes of 2 CPU devices each: the sharded run and its
resumption equal one process over 4 devices, and a coordinator out of reach is one error line."""
import os
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from conftest import REPO, final_state, write_mnist_like
from gans.core.errors import UsageError
from gans.run import checkpoints, distributed

TINY = '''from gans.configs import default


def get_config(dataset='mnist'):
  config = default.get_config()
  config.model, config.dataset, config.parallel = 'mlp', dataset, 'sharded'
  config.batch_size, config.latent_dim, config.num_sample_images = 16, 8, 8
  config.mlp.generator_widths, config.mlp.discriminator_widths = (32,), (32,)
  config.log_every_steps, config.checkpoint_every_steps = 2, 4
  return config
'''
TIMEOUT = 240


def free_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def command(tmp_path, workdir, num_steps, *flags):
  return [sys.executable, os.path.join(REPO, 'train.py'), f'--config={tmp_path / "tiny.py"}',
          f'--data_dir={tmp_path / "data"}', f'--workdir={workdir}', f'--num_steps={num_steps}',
          *flags]


def environment(devices):
  xla_flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}"
  return dict(os.environ, XLA_FLAGS=xla_flags.strip())


def start_one_process(tmp_path, workdir, num_steps):
  """One process of 4 CPU devices, started in the background."""
  return [subprocess.Popen(command(tmp_path, workdir, num_steps), env=environment(4),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)]


def start_two_processes(tmp_path, workdir, num_steps):
  """Both processes of one run, each with 2 CPU devices, coordinated on a free local port:
  process 0 is told by the flags, process 1 by the environment variables."""
  address = f'127.0.0.1:{free_port()}'
  flags = ['--distributed', '--distributed_timeout=120']
  by_flags = [f'--coordinator_address={address}', '--num_processes=2', '--process_id=0']
  by_variables = {'JAX_COORDINATOR_ADDRESS': address, 'JAX_NUM_PROCESSES': '2',
                  'JAX_PROCESS_ID': '1'}
  return [subprocess.Popen(command(tmp_path, workdir, num_steps, *flags, *by_flags),
                           env=environment(2), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True),
          subprocess.Popen(command(tmp_path, workdir, num_steps, *flags),
                           env=dict(environment(2), **by_variables), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)]


def finish(processes):
  """Waits for a run's processes; each must succeed and train over 4 devices in all."""
  for index, process in enumerate(processes):
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, f'process {index}: {stderr[-3000:]}'
    assert 'over 4 device(s)' in stderr, stderr[-3000:]


def state_at(workdir, step):
  checkpointer = checkpoints.Checkpointer(workdir, create=False)
  try:
    return checkpointer.manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore())).state
  finally:
    checkpointer.close()


def assert_equal_but_for_rounding(a, b):
  """The two processes all-reduce their gradients across processes (through gloo) in another
  order than one process sums its 4 devices', so float32 sums round differently in the last bits:
  measured, at most 3e-7 of a leaf's largest magnitude after 8 steps. 1e-5 of it leaves a margin
  of 30x, and is still 25x below one Adam step (learning rate 2e-4 on weights up to 0.8), so a
  skipped, repeated or wrongly batched step fails. Integer leaves (step counts) are exact."""
  def check(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if np.issubdtype(y.dtype, np.floating):
      np.testing.assert_allclose(x, y, rtol=0, atol=1e-5 * np.abs(y).max())
    else:
      np.testing.assert_array_equal(x, y)
  jax.tree.map(check, a, b)


def test_two_processes_train_and_resume_as_one_process_of_4_devices(tmp_path):
  write_mnist_like(str(tmp_path / 'data' / 'mnist'))  # 64 images: 4 steps per epoch
  (tmp_path / 'tiny.py').write_text(TINY)
  single, multi = tmp_path / 'single', tmp_path / 'multi'
  uninterrupted = start_one_process(tmp_path, single, 8)  # beside the others, to save wall time
  finish(start_two_processes(tmp_path, multi, 4))
  finish(uninterrupted)
  step, stopped = final_state(multi)
  assert step == 4
  assert_equal_but_for_rounding(stopped, state_at(single, 4))
  finish(start_two_processes(tmp_path, multi, 8))  # resumes from its checkpoint of step 4
  step, resumed = final_state(multi)
  assert step == 8
  assert_equal_but_for_rounding(resumed, state_at(single, 8))


def test_an_unreachable_coordinator_is_one_error_line(tmp_path):
  (tmp_path / 'tiny.py').write_text(TINY)
  address = f'127.0.0.1:{free_port()}'  # nothing listens there
  started = time.monotonic()
  result = subprocess.run(
      command(tmp_path, tmp_path / 'run', 4, '--distributed',
              f'--coordinator_address={address}', '--num_processes=2',
              '--process_id=1', '--distributed_timeout=2'),
      capture_output=True, text=True, timeout=TIMEOUT)
  errors = [line for line in result.stderr.splitlines() if 'rror' in line]
  assert result.returncode == 2
  assert errors == [f'error: could not reach the coordinator at {address} within 2 s '
                    '(--distributed_timeout): is process 0 running there with the same '
                    '--coordinator_address?'], result.stderr
  assert 'Traceback' not in result.stderr
  assert time.monotonic() - started < 60
  assert not (tmp_path / 'run').exists()


@pytest.mark.parametrize('requested, flags, variables, message', [
    (False, {'num_processes': 2}, {}, '--num_processes configure --distributed, which is not'),
    (True, {'coordinator_address': 'host'}, {}, '--coordinator_address must be HOST:PORT'),
    (True, {}, {'JAX_COORDINATOR_ADDRESS': 'host:0'}, 'JAX_COORDINATOR_ADDRESS must be HOST:PORT'),
    (True, {}, {'JAX_NUM_PROCESSES': 'two'}, "JAX_NUM_PROCESSES must be an integer, got 'two'"),
    (True, {'num_processes': 2}, {'JAX_PROCESS_ID': '2'},
     r'JAX_PROCESS_ID must be an integer in \[0, 1\], got 2'),
    (True, {'num_processes': 0}, {}, '--num_processes must be a positive integer, got 0'),
])
def test_bad_settings_are_refused_before_jax_is_asked(monkeypatch, requested, flags, variables,
                                                      message):
  for name in distributed.VARIABLES.values():
    monkeypatch.delenv(name, raising=False)
  for name, value in variables.items():
    monkeypatch.setenv(name, value)
  settings = dict(dict.fromkeys(distributed.VARIABLES), **flags)
  with pytest.raises(UsageError, match=message):
    distributed.start(requested, **settings, timeout_s=1)
