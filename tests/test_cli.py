"""train.py and evaluate.py as a user runs them: bad flags, kill -9 and resume, sample export."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, write_mnist_like

TINY = ['--model=mlp', '--batch_size=16', '--config.latent_dim=8', '--config.parallel=jit',
        '--config.mlp.generator_widths=(32,)', '--config.mlp.discriminator_widths=(32,)',
        '--config.num_sample_images=8']


def command(script, *args):
  return [sys.executable, os.path.join(REPO, script), *args]


def run(script, *args, env=None):
  return subprocess.run(command(script, *args), capture_output=True, text=True, timeout=120,
                        env=env)


def cpu_env(devices=1):
  return dict(os.environ, XLA_FLAGS=f"{os.environ['XLA_FLAGS']} "
                                    f'--xla_force_host_platform_device_count={devices}')


@pytest.mark.parametrize('flags, message', [
    (['--model=vae'], "unknown model 'vae'; allowed: mlp, dcgan"),
    (['--dataset=cifar10'], "unknown dataset 'cifar10'; allowed: mnist"),
    (['--loss=wgan'], "unknown loss 'wgan'; allowed: non_saturating"),
    (['--num_epochs=0'], 'num_epochs must be a positive integer, got 0'),
    (['--batch_size=-8'], 'batch_size must be a positive integer, got -8'),
    (['--batch_size=12', '--config.parallel=pmap'], 'batch_size 12 is not divisible by the 8'),
    (['--config=gans/configs/cgan.py', '--config.conditional.backbone=resnet'],
     "unknown conditional.backbone 'resnet'; allowed: mlp, dcgan"),
    (['--config=gans/configs/ccgan100.py', '--config.conditional.hole_size=28'],
     'conditional.hole_size must be an integer in [1, 27], got 28'),
    (['--config.optimizer=sgd'], "unknown optimizer 'sgd'; allowed: adam, rmsprop"),
    (['--loss=wasserstein_clip', '--config.clip_value=-0.01'],
     'clip_value must be positive, got -0.01'),
    (['--config.penalty=r2'], "unknown penalty 'r2'; allowed: none, dragan, r1"),
    (['--config=gans/configs/infogan.py', '--config.infogan.categories=100'],
     'infogan.categories must be an integer in [2, 64], got 100'),
])
def test_bad_flags_fail_fast_with_one_line_and_write_nothing(tmp_path, flags, message):
  workdir = tmp_path / 'run'
  # Fast: the settings are refused before any data is read (a missing data folder would be
  # another error), so nothing is loaded or compiled first.
  result = run('train.py', f'--workdir={workdir}', f'--data_dir={tmp_path / "no-data"}', *flags,
               env=cpu_env(8))
  assert result.returncode == 2
  errors = [line for line in result.stderr.splitlines() if line.startswith('error:')]
  assert len(errors) == 1 and message in errors[0], result.stderr
  assert not workdir.exists()


MLP_CONFIG = 'from gans.configs import mlp\nget_config = mlp.get_config\n'


@pytest.mark.parametrize('config_text, override, message', [
    (None, [], "--config={path}: cannot load it ([Errno 2] No such file or directory"),
    ('def get_config():\n  raise ValueError("no such recipe")\n', [],
     '--config={path}: loading it raised ValueError: no such recipe'),
    ('def get_config():\n  raise KeyError("mnist")\n', [],
     "--config={path}: loading it raised KeyError: 'mnist'; give a Python file"),
    ('import not_a_module\n', [], "loading it raised ModuleNotFoundError: No module named"),
    ('def get_config(:\n', [], 'loading it raised SyntaxError'),
    (MLP_CONFIG, ['--config.mlp.no_such_width=3'],
     "error: --config.mlp.no_such_width: the config has no field 'mlp.no_such_width'\n"),
    # A mistyped field names the override and ml_collections' guess, not the file.
    (MLP_CONFIG, ['--config.num_epoch=3'],
     "error: --config.num_epoch: the config has no field 'num_epoch'; did you mean "
     "'num_epochs'?\n"),
    (MLP_CONFIG, ['--config.mlp.generator_width=(8,)'],
     "error: --config.mlp.generator_width: the config has no field 'mlp.generator_width'; did "
     "you mean 'mlp.generator_widths'?\n"),
    (MLP_CONFIG, ['--config.num_epochs.x=3'],
     "error: --config.num_epochs.x: the config's num_epochs is of type int, which has no field "
     "'x'\n"),
    # The same mistake inside get_config() is the file's, whatever the overrides.
    ('from gans.configs import mlp\ndef get_config():\n  return mlp.get_config().num_epoch\n',
     ['--config.num_epoch=3'], '--config={path}: loading it raised AttributeError'),
])
def test_a_bad_config_file_is_one_error_line_and_exit_2(tmp_path, config_text, override,
                                                       message):
  path = tmp_path / 'config.py'
  if config_text is not None:
    path.write_text(config_text)
  workdir = tmp_path / 'run'
  result = run('train.py', f'--config={path}', f'--workdir={workdir}', *override)
  assert result.returncode == 2, result.stderr
  assert result.stderr.strip().splitlines() == [
      line for line in result.stderr.strip().splitlines() if line.startswith('error:')]
  assert message.format(path=path) in result.stderr
  assert 'Traceback' not in result.stderr and not workdir.exists()


def test_a_workdir_that_cannot_be_created_is_refused(tmp_path, data_dir):
  blocker = tmp_path / 'file'
  blocker.write_text('not a directory')
  result = run('train.py', f'--workdir={blocker}/run', f'--data_dir={data_dir}', *TINY)
  assert result.returncode == 2
  assert f'error: workdir {str(blocker / "run")!r} cannot be created' in result.stderr
  assert blocker.read_text() == 'not a directory'


def test_evaluate_exports_the_same_samples_for_the_same_seed(tmp_path, data_dir):
  """(Kill -9 and resume of train.py: tests/test_reliability.py, through gans.benchmarks.faults.)"""
  workdir = tmp_path / 'run'
  trained = run('train.py', f'--workdir={workdir}', f'--data_dir={data_dir}', '--num_steps=20',
                '--config.checkpoint_every_steps=20', '--config.log_every_steps=10', *TINY)
  assert trained.returncode == 0, trained.stderr
  exports = {}
  for name, seed in [('a', 3), ('b', 3), ('c', 4)]:
    path = tmp_path / f'{name}.npz'
    result = run('evaluate.py', f'--workdir={workdir}', '--num_samples=1000', f'--export={path}',
                 f'--seed={seed}')
    assert result.returncode == 0, result.stderr
    assert (tmp_path / f'{name}.png').stat().st_size > 0
    exports[name] = np.load(path)['images']
  assert exports['a'].shape == (1000, 28, 28) and exports['a'].dtype == np.uint8
  np.testing.assert_array_equal(exports['a'], exports['b'])
  assert not np.array_equal(exports['a'], exports['c'])
  assert len(np.unique(exports['a'].reshape(1000, -1), axis=0)) == 1000


def test_evaluate_says_which_way_each_metric_is_better_and_where_it_wrote(tmp_path):
  data_dir = str(tmp_path / 'data')  # enough images for 100 samples' real reference
  write_mnist_like(os.path.join(data_dir, 'mnist'), num_train=256, num_test=128)
  workdir = tmp_path / 'run'
  trained = run('train.py', f'--workdir={workdir}', f'--data_dir={data_dir}', '--num_steps=4',
                '--config.checkpoint_every_steps=4', '--config.log_every_steps=2', *TINY)
  assert trained.returncode == 0, trained.stderr
  env = dict(os.environ, GANS_CLASSIFIER_DIR=str(tmp_path / 'classifiers'))
  result = run('evaluate.py', f'--workdir={workdir}', f'--data_dir={data_dir}',
               '--num_samples=100', env=env)
  assert result.returncode == 0, result.stderr
  names = [line.split()[:2] for line in result.stdout.splitlines()]
  # The arrows of the results pages' columns (gans.tools.report.METRICS), where they have one.
  assert ['frechet_distance', '↓'] in names and ['precision', '↑'] in names
  assert ['density', '↑'] not in names and ['density', '↓'] not in names
  assert result.stdout.splitlines()[-1] == '↑: higher is better; ↓: lower is better'
  assert f'Wrote eval.json and their figures to {workdir}' in result.stderr


@pytest.mark.parametrize('flags, message', [
    (['--num_samples=0'], '--num_samples must be a positive integer, got 0'),
    (['--export=samples.txt'], "--export must name a .npz file, got 'samples.txt'"),
])
def test_evaluate_refuses_bad_flags(tmp_path, flags, message):
  result = run('evaluate.py', f'--workdir={tmp_path}', '--export=out.npz', *flags)
  assert result.returncode == 2 and f'error: {message}' in result.stderr


def test_evaluate_without_a_checkpoint_names_the_workdir(tmp_path):
  result = run('evaluate.py', f'--workdir={tmp_path}', f'--export={tmp_path / "s.npz"}')
  assert result.returncode == 2
  assert f"error: no checkpoint in workdir '{tmp_path}'" in result.stderr
  assert not (tmp_path / 's.npz').exists()
