"""Injected faults: damaged checkpoints, a second writer, stale locks, NaN gradients, failed
writes, repeated SIGKILLs. Nothing may be lost and no resumed run may differ."""
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import pytest

from conftest import REPO, assert_bitwise_equal, final_state, tiny_config, write_mnist_like
from gans.core import losses
from gans.core.errors import StorageError, UsageError
from gans.evaluation import sampling
from gans.run import checkpoints
from gans.benchmarks import faults
from gans.training import loop


def largest_file(folder):
  paths = [os.path.join(d, f) for d, _, files in os.walk(folder) for f in files]
  return max(paths, key=os.path.getsize)


def truncate(step_dir):
  for d, _, files in os.walk(os.path.join(step_dir, 'state')):
    for f in files:
      path = os.path.join(d, f)
      os.truncate(path, os.path.getsize(path) // 2)


def corrupt(step_dir):
  """Overwrites the middle of the largest array file with other bytes, keeping its size."""
  path = largest_file(os.path.join(step_dir, 'state'))
  size = os.path.getsize(path)
  with open(path, 'r+b') as f:
    f.seek(size // 2)
    chunk = f.read(64)
    f.seek(size // 2)
    f.write(bytes(b ^ 0xFF for b in chunk))


def drop_metadata(step_dir):
  shutil.rmtree(os.path.join(step_dir, 'meta'))


def unfinished_temporary(step_dir):
  """A newer save that never finished: a temporary folder orbax would have renamed."""
  tmp = os.path.join(os.path.dirname(step_dir), '8.orbax-checkpoint-tmp-1234')
  shutil.copytree(step_dir, tmp)
  truncate(tmp)


@pytest.fixture(scope='module')
def shared_data(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('data'))
  write_mnist_like(os.path.join(root, 'mnist'))
  return root


def every_two(data_dir, steps):
  return tiny_config('mlp', data_dir, num_steps=steps, checkpoint_every_steps=2)


@pytest.fixture(scope='module')
def undisturbed(tmp_path_factory, shared_data):
  """The final checkpoint of an 8-step run that nothing interrupted."""
  workdir = tmp_path_factory.mktemp('undisturbed')
  loop.train(every_two(shared_data, 8), str(workdir))
  return final_state(workdir)


@pytest.mark.parametrize('damage', [truncate, corrupt, drop_metadata, unfinished_temporary])
def test_a_damaged_newest_checkpoint_is_skipped_and_the_run_still_ends_exact(
    tmp_path, shared_data, undisturbed, damage, caplog):
  config = lambda steps: every_two(shared_data, steps)
  parts = tmp_path / 'parts'
  loop.train(config(6), str(parts))
  damage(str(parts / 'checkpoints' / '6'))
  skipped = damage is not unfinished_temporary  # an unfinished temporary folder is no step
  resume_step = 4 if skipped else 6

  with caplog.at_level(logging.WARNING):
    _, _, variables = sampling.load_generator(str(parts))  # evaluate.py reads the same way
  assert ('Skipping the damaged checkpoint of step 6' in caplog.text) == skipped
  assert variables['params']

  caplog.clear()
  with caplog.at_level(logging.INFO):
    loop.train(config(8), str(parts))
  assert ('Skipping the damaged checkpoint of step 6' in caplog.text) == skipped
  resumed_at = re.search(r'Resuming from step (\d+): epoch (\d+), after (\d+) of its (\d+) steps',
                         caplog.text)
  step, epoch, done, steps_per_epoch = map(int, resumed_at.groups())
  assert step == resume_step == (epoch - 1) * steps_per_epoch + done
  # The progress of the epoch it resumes in bears the same number.
  assert re.search(rf'epoch {epoch}: \d+ of {steps_per_epoch} steps', caplog.text)
  step_whole, whole = undisturbed
  step_parts, resumed = final_state(parts)
  assert step_whole == step_parts == 8
  assert_bitwise_equal(whole, resumed)
  if skipped:  # moved aside, not deleted
    assert len(os.listdir(parts / checkpoints.DAMAGED_DIR)) == 1


def test_evaluate_refuses_a_workdir_whose_checkpoints_are_all_damaged(tmp_path, data_dir):
  workdir = tmp_path / 'run'
  loop.train(tiny_config('mlp', data_dir, num_steps=4, checkpoint_every_steps=4), str(workdir))
  corrupt(str(workdir / 'checkpoints' / '4'))
  with pytest.raises(UsageError, match='no intact checkpoint'):
    sampling.load_generator(str(workdir))


def test_a_second_writer_is_refused_and_a_dead_owners_lock_is_taken_over(tmp_path, data_dir,
                                                                         caplog):
  workdir = tmp_path / 'run'
  holder = subprocess.Popen(
      [sys.executable, '-c', 'import sys, time; from gans.run import checkpoints; '
       'checkpoints.WorkdirLock(sys.argv[1]).__enter__(); print("locked", flush=True); '
       'time.sleep(120)', str(workdir)], cwd=REPO, stdout=subprocess.PIPE, text=True)
  assert holder.stdout.readline().strip() == 'locked'
  started = time.monotonic()
  with pytest.raises(UsageError, match=rf"workdir '.*run' is in use by pid {holder.pid} on "):
    loop.train(tiny_config('mlp', data_dir, num_steps=2), str(workdir))
  assert time.monotonic() - started < 10
  assert not (workdir / 'checkpoints').exists()

  holder.send_signal(signal.SIGKILL)
  holder.wait()
  with caplog.at_level(logging.WARNING):
    loop.train(tiny_config('mlp', data_dir, num_steps=2), str(workdir))
  assert f'Took over the lock of pid {holder.pid}' in caplog.text
  assert final_state(workdir)[0] == 2
  assert (workdir / 'lock').read_text() == ''  # released on a clean exit


@jax.custom_vjp
def nan_gradient(x):
  return x


nan_gradient.defvjp(lambda x: (x, None), lambda _, g: (g * jnp.nan,))


def test_a_nan_gradient_stops_training_naming_the_step_and_metric(tmp_path, data_dir,
                                                                  monkeypatch):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', data_dir, num_steps=4), workdir)
  good = final_state(workdir)[1]
  base = losses.LOSSES['non_saturating']
  poisoned = losses.GANLoss(base.d_loss, lambda f: base.g_loss(nan_gradient(f)), logistic=True)
  monkeypatch.setitem(losses.LOSSES, 'non_saturating', poisoned)
  with pytest.raises(loop.NonFiniteError, match=r'non-finite g_grad_norm \(nan\) at step 5'):
    loop.train(tiny_config('mlp', data_dir, num_steps=8), workdir)
  step, state = final_state(workdir)
  assert step == 4
  assert_bitwise_equal(state, good)


def test_a_failed_checkpoint_write_is_a_clear_error_and_keeps_the_earlier_ones(
    tmp_path, data_dir, monkeypatch):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', data_dir, num_steps=4), workdir)
  good = final_state(workdir)[1]

  def full_disk(self, step, *args, **kwargs):
    raise OSError(28, 'No space left on device')
  monkeypatch.setattr(checkpoints.ocp.CheckpointManager, 'save', full_disk)
  with pytest.raises(StorageError, match=r'checkpoint of step 8 .* No space left on device; the '
                                         r'checkpoints of steps \[4\] are intact'):
    loop.train(tiny_config('mlp', data_dir, num_steps=8), workdir)
  monkeypatch.undo()
  step, state = final_state(workdir)
  assert step == 4
  assert_bitwise_equal(state, good)


def test_an_unwritable_metrics_file_exits_3_with_one_line(tmp_path, data_dir):
  workdir = tmp_path / 'run'
  (workdir / 'metrics.jsonl').mkdir(parents=True)  # a write there fails, even for root
  result = subprocess.run(
      [sys.executable, os.path.join(REPO, 'train.py'), f'--workdir={workdir}',
       f'--data_dir={data_dir}', '--model=mlp', '--num_steps=2', '--batch_size=16',
       '--config.latent_dim=8', '--config.mlp.generator_widths=(32,)',
       '--config.mlp.discriminator_widths=(32,)', '--config.parallel=jit'],
      capture_output=True, text=True, timeout=120)
  assert result.returncode == 3
  errors = [l for l in result.stderr.splitlines() if l.startswith('error: ')]
  assert len(errors) == 1 and 'could not write to workdir' in errors[0], result.stderr


def test_repeated_kills_including_during_checkpoint_writes_resume_exactly(tmp_path):
  write_mnist_like(str(tmp_path / 'data' / 'mnist'), num_train=8192)  # 200 steps in 1 epoch
  counts = faults.soak(rounds=1, kills_per_round=2, data_dir=str(tmp_path / 'data'),
                       root=str(tmp_path))
  assert counts['kills'] >= 1
  assert counts['exact_resumes'] == 1 and counts['differing_rounds'] == 0
  assert counts['lost_steps'] == 0
