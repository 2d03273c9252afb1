"""The tools' command-line convention: importing a tool defines no flag; bad input is one line
`error: ...` on stderr with exit status 2 (3 for a StorageError)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO
from gans.core.errors import StorageError, UsageError
from gans.tools import cli

# The command-line programs, by package: what users run, the experiments of the original works,
# and the developers' benchmarks.
PROGRAMS = {
    'gans.tools': ('cli', 'report', 'sample', 'sweep', 'train_evaluator'),
    'gans.experiments': ('augmentation', 'ppca_sweep'),
    'gans.benchmarks': ('classifier', 'faults', 'layer_times', 'metrics', 'population', 'step'),
}
# Imports every module of a package, one by one, and prints the flags each one added that a
# module of this package defines (absl records the module that called DEFINE_*); libraries the
# tools import (absl.app, orbax) add flags of their own, which are not ours to judge. Then it
# calls one tool's define_flags(), to show that its flags would be seen.
IMPORT_ALL = """
import importlib, pkgutil, sys
from absl import flags
package = importlib.import_module(sys.argv[1])
def ours(names):
  return sorted(n for n in names if flags.FLAGS.find_module_defining_flag(n).startswith('gans'))
names = sorted(m.name for m in pkgutil.iter_modules(package.__path__))
print(','.join(names))
for name in names:
  before = set(flags.FLAGS)
  module = importlib.import_module(sys.argv[1] + '.' + name)
  print(name, ','.join(ours(set(flags.FLAGS) - before)) or '-')
before = set(flags.FLAGS)
module = importlib.import_module('gans.experiments.ppca_sweep')
module.define_flags()
print(module.__name__, ','.join(ours(set(flags.FLAGS) - before)))
"""


def run(*args, env=None):
  return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                        timeout=120, env=env)


@pytest.mark.parametrize('package', sorted(PROGRAMS))
def test_importing_a_tool_defines_no_flag(package):
  out = run('-c', IMPORT_ALL, package)
  assert out.returncode == 0, out.stderr
  lines = out.stdout.splitlines()
  names = lines[0].split(',')
  assert names == list(PROGRAMS[package])
  assert lines[1:-1] == [f'{name} -' for name in names]
  # The check sees flags a tool defines: those of ppca_sweep's define_flags().
  assert lines[-1] == ('gans.experiments.ppca_sweep classifier_dir,components,data_dir,dataset,'
                       'knee_tolerance,num_samples,output_dir,seed')


def error_lines(stderr):
  return [line for line in stderr.splitlines() if line.startswith('error:')]


@pytest.mark.parametrize('args, message', [
    (['gans.experiments.augmentation', '--generators=cgan'], '--output_dir is required'),
    (['gans.experiments.augmentation', '--output_dir=/tmp/x', '--generators=cgan'],
     "--generators takes name=workdir pairs, got 'cgan'"),
    (['gans.experiments.ppca_sweep', '--output_dir=/tmp/x', '--components=2,two'],
     '--components must be integers, got 2,two'),
    (['gans.benchmarks.faults', '--rounds=0'], '--rounds must be a positive integer, got 0'),
    (['gans.tools.report'], 'Flag --machine must have a value other than None'),
    (['gans.benchmarks.metrics', '--repeats=0'], '--repeats must be a positive integer'),
    (['gans.benchmarks.classifier', '--steps=0'], 'flag --steps=0'),
    (['gans.benchmarks.step', '--model=ppca'], "flag --model=ppca: value should be one of"),
    (['gans.benchmarks.step', '--steps=0'], 'flag --steps=0'),
    (['gans.benchmarks.step', '--no_such_flag=1'], 'no_such_flag'),
    (['gans.benchmarks.step', 'positional'], 'unexpected arguments: positional'),
])
def test_bad_input_is_one_error_line_and_exit_2(args, message):
  out = run('-m', *args)
  assert out.returncode == 2, out.stderr
  errors = error_lines(out.stderr)
  assert len(errors) == 1 and message in errors[0], out.stderr
  assert out.stdout == ''


def test_the_classifier_benchmark_prints_a_row_per_pooling_and_their_ratio():
  out = run('-m', 'gans.benchmarks.classifier', '--batch_size=8', '--steps=2', '--repeats=1')
  assert out.returncode == 0, out.stderr
  rows = [line for line in out.stdout.splitlines() if line.startswith('| ') and 'ms' not in line]
  assert [row.split(' | ')[0] for row in rows] == ['| max over a reshape (lenet.max_pool_2x2, '
                                                  'used)', '| nn.max_pool']
  assert all(float(row.split(' | ')[1].rstrip(' |')) > 0 for row in rows)
  assert float(out.stdout.strip().splitlines()[-1].split(': ')[1]) > 0


def test_a_torch_peer_that_is_not_a_file_is_refused_before_timing(tmp_path):
  missing = str(tmp_path / 'peer.py')
  out = run('-m', 'gans.benchmarks.step', '--model=mlp',
            env=dict(os.environ, GANS_TORCH_PEER=missing))
  assert out.returncode == 2
  assert error_lines(out.stderr) == [f'error: --torch_peer (or $GANS_TORCH_PEER) {missing!r} is '
                                     f'not a file']


@pytest.mark.parametrize('args, message', [
    # dcgan_fast.py trains at batch 64: --batch_size left unset must not replace it.
    (['--config=gans/configs/dcgan_fast.py', '--devices=3'],
     'batch_size 64 is not divisible by 3 devices'),
    (['--config=gans/configs/dcgan_fast.py', '--devices=3', '--batch_size=65'],
     'batch_size 65 is not divisible by 3 devices'),
    (['--config.steps_per_call=4', '--steps=6'],
     'steps (6) must be a multiple of steps_per_call (4)'),
    (['--config=gans/configs/ppca64.py'], 'a ppca is fitted in closed form'),
])
def test_benchmark_flags_left_unset_keep_the_configs_values(args, message):
  out = run('-m', 'gans.benchmarks.step', *args)
  errors = error_lines(out.stderr)
  assert out.returncode == 2 and len(errors) == 1, out.stderr
  assert errors[0].startswith(f'error: {message}')


@pytest.mark.parametrize('error, code', [(UsageError('bad\nvalue'), 2), (StorageError('disk'), 3)])
def test_fail_prints_one_line_and_exits_with_the_errors_status(capsys, error, code):
  with pytest.raises(SystemExit) as exit_info:
    cli.fail(error)
  assert exit_info.value.code == code
  assert capsys.readouterr().err == f'error: {" ".join(str(error).split())}\n'


@pytest.mark.parametrize('error, code', [('StorageError', 3), ('ValueError', 1)])
def test_run_main_defines_flags_when_run_and_maps_errors_to_their_status(error, code):
  program = f"""
from absl import flags
from gans.core.errors import StorageError
from gans.tools import cli
def define_flags():
  flags.DEFINE_string('where', None, 'A path.')
def main():
  raise {error}(f'could not write to {{flags.FLAGS.where}}')
cli.run_main(main, define_flags, other_errors=(ValueError,))
"""
  out = run('-c', program, '--where=/full/disk')
  assert out.returncode == code
  assert error_lines(out.stderr) == ['error: could not write to /full/disk']


def test_time_to_quality_finds_the_first_point_within_each_factor_and_its_training_seconds():
  from gans.tools import report
  rows = [{'step': 5, 'epoch': 0.5, 'eval_fid': 50.0, 'eval_num_samples': 100},
          {'step': 10, 'epoch_end': 1, 'seconds': 20.0},
          {'step': 15, 'epoch': 1.5, 'eval_fid': 9.0, 'eval_num_samples': 100},
          {'step': 15, 'epoch': 1.5, 'eval_fid': 1.0, 'eval_num_samples': 2000},  # other count
          {'step': 20, 'epoch_end': 2, 'seconds': 30.0},
          {'step': 25, 'epoch': 2.5, 'eval_fid': 3.5, 'eval_num_samples': 100}]
  # Real at 1.0: 10x first at step 15, half-way through the second epoch (20 + 30 / 2 s); 4x at
  # step 25, after the last finished epoch, so its seconds are unknown.
  assert report.time_to_quality(rows, 1.0, 100) == [(10, 15, 1.5, 35.0), (4, 25, 2.5, None)]
  assert report.time_to_quality(rows, 0.5, 100) == [(10, 25, 2.5, None), (4, None, None, None)]
  assert report.time_to_quality(rows, 1.0, 500) == []  # no curve of the evaluation's count
  assert report.time_to_quality(rows, 1.0, 100, 'eval_fid_ema') == []  # no EMA curve


def test_quality_lines_give_the_ema_its_own_sentence_where_its_curve_was_recorded(tmp_path):
  from gans.tools import report
  rows = [{'step': 5, 'epoch': 0.5, 'eval_fid': 50.0, 'eval_fid_ema': 30.0,
           'eval_num_samples': 100},
          {'step': 10, 'epoch_end': 1, 'seconds': 20.0},
          {'step': 15, 'epoch': 1.5, 'eval_fid': 12.0, 'eval_fid_ema': 3.0,
           'eval_num_samples': 100},
          {'step': 20, 'epoch_end': 2, 'seconds': 30.0}]
  (tmp_path / 'metrics.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
  run = {'report': {'samples': {}, 'num_samples': 100, 'real': {'frechet_distance': 1.0}}}
  lines = [line for line in report.quality_lines(run, str(tmp_path)) if line]
  assert lines == [
      'Time to quality (the Fréchet distance of G during training, 100 samples, the curve of '
      'fid.png): within 10 × real (10.0) not reached; within 4 × real (4.0) not reached; '
      'lowest 12.0 at epoch 1.50.',
      'Time to quality (the Fréchet distance of the EMA of G during training, 100 samples, the '
      'curve of fid.png): within 10 × real (10.0) at step 15 (epoch 1.50, 35 s of training); '
      'within 4 × real (4.0) at step 15 (epoch 1.50, 35 s of training); lowest 3.0 at epoch '
      '1.50.']


def fake_run(results, name, dataset, scores, ema_scores=None, extra='', config_file='mlp'):
  """A collected run of an MLP GAN as the report tool reads it back: run.json, command.txt (its
  train command naming gans/configs/CONFIG_FILE.py) and eval.json (eval_ema.json with
  `ema_scores`), each score dict {'frechet_distance': ...}."""
  folder = results / name
  folder.mkdir(parents=True)
  config = {'model': 'mlp', 'dataset': dataset, 'loss': 'non_saturating', 'num_epochs': 30}
  (folder / 'run.json').write_text(json.dumps(
      {'epochs': 30, 'fit': None, 'config': config, 'seconds_per_epoch': 1.0, 'note': ''}))
  (folder / 'command.txt').write_text(
      f'# train\npython train.py --config=gans/configs/{config_file}.py:{dataset}{extra} '
      f'--workdir=workdirs/{name}\npython evaluate.py --workdir=workdirs/{name}\n')
  real = {'frechet_distance': 1.7, 'kid': 0.5, 'precision': 0.86, 'recall': 0.87}
  for filename, fd in (('eval.json', scores), ('eval_ema.json', ema_scores)):
    if fd is not None:
      samples = {'frechet_distance': fd, 'kid': fd / 2, 'precision': 0.8, 'recall': 0.7}
      (folder / filename).write_text(json.dumps(
          {'num_samples': 100, 'samples': samples, 'real': real,
           'classifier': {'test_accuracy': 0.99}}))


def test_report_writes_the_readme_table_of_each_datasets_best_runs_between_its_markers(tmp_path):
  results = tmp_path / 'results'
  fake_run(results, 'mlp_mnist', 'mnist', 30.0)
  fake_run(results, 'mlp200_mnist', 'mnist', 20.0, ema_scores=10.0,
           extra=' --config.num_epochs=200')
  readme = tmp_path / 'README.md'
  readme.write_text('# Title\n\n<!-- results:begin -->\nold\n<!-- results:end -->\n\nAfter.\n')
  command = ['-m', 'gans.tools.report', '--machine=a test', f'--out={results}', '--readme_only']
  out = run(*command)
  assert out.returncode == 0, out.stderr
  text = readme.read_text()
  table = text.split('<!-- results:begin -->\n')[1].split('\n<!-- results:end -->')[0]
  assert table.splitlines() == [
      '| dataset | run | model | FD ↓ | KID ↓ | precision ↑ | recall ↑ | train arguments |',
      '|---|---|---|---|---|---|---|---|',
      '| MNIST | [mlp200_mnist](results/README.md#mlp200_mnist) | MLP GAN (EMA of G) | 10.00 | '
      '5.000 | 0.800 | 0.700 | `--config=gans/configs/mlp.py:mnist --config.num_epochs=200` |',
      '| MNIST | [mlp_mnist](results/README.md#mlp_mnist) | MLP GAN | 30.00 | 15.000 | 0.800 | '
      '0.700 | `--config=gans/configs/mlp.py:mnist` |',
      '| MNIST | real train images (reference) | | 1.70 | 0.500 | 0.860 | 0.870 | |']
  assert text.startswith('# Title\n\n') and text.endswith('\n\nAfter.\n')
  assert run(*command).returncode == 0
  assert readme.read_text() == text  # a rerun changes nothing
  readme.write_text('# No markers\n')
  out = run(*command)
  assert out.returncode == 2
  assert error_lines(out.stderr) == [f"error: --readme '{readme}' must hold "
                                     '<!-- results:begin --> and then <!-- results:end -->, once '
                                     'each']


def study_cell(variant, overrides, seed, curve, fd, kid, precision, ema=True):
  """A loss study's cell as gans.tools.sweep writes it: `curve` [(seconds, fd)], the final scores
  of the EMA of G (`ema`) or of G alone."""
  key = 'fd_ema' if ema else 'fd'
  scores = {'frechet_distance': fd, 'kid': kid, 'precision': precision, 'recall': precision - 0.1}
  return {'variant': variant, 'overrides': overrides, 'seed': seed, 'dataset': 'mnist',
          'steps': 3000, 'discriminator_steps': 3000, 'population_seconds': 400.0,
          'curve': [{'step': 500 * (i + 1), 'seconds': seconds, key: fd_point}
                    for i, (seconds, fd_point) in enumerate(curve)],
          'g': scores, 'ema': scores if ema else None,
          'real': {'frechet_distance': 2.0, 'kid': 0.01, 'precision': 0.86, 'recall': 0.87}}


def test_report_opens_with_each_datasets_families_beside_the_loss_study(tmp_path):
  from gans.tools import report
  results = tmp_path / 'results'
  fake_run(results, 'dcgan_fast_mnist', 'mnist', 9.0, ema_scores=5.4, config_file='dcgan_fast')
  # The 10-epoch run's EMA curve, 100 samples as its evaluation (real 1.7): within 10x (17) at
  # step 15, half-way through the second epoch (20 + 30 / 2 s); never within 4x (6.8).
  rows = [{'step': 5, 'epoch': 0.5, 'eval_fid': 60.0, 'eval_fid_ema': 50.0,
           'eval_num_samples': 100},
          {'step': 10, 'epoch_end': 1, 'seconds': 20.0},
          {'step': 15, 'epoch': 1.5, 'eval_fid': 20.0, 'eval_fid_ema': 9.0,
           'eval_num_samples': 100},
          {'step': 20, 'epoch_end': 2, 'seconds': 30.0}]
  (results / 'dcgan_fast_mnist' / 'metrics.jsonl').write_text(
      ''.join(json.dumps(r) + '\n' for r in rows))
  fake_run(results, 'acgan_dcgan_mnist', 'mnist', 4.0, config_file='acgan_dcgan')
  for name in ('dcgan_fast_mnist', 'acgan_dcgan_mnist'):
    (results / name / 'samples_epoch_030.png').write_bytes(b'')
  no_bn = {'dcgan.discriminator_batch_norm': False,
           'dcgan.discriminator_batch_norm_halves': False}
  wgan = {'loss': 'wasserstein_gp', 'n_critic': 5, **no_bn, 'dcgan.discriminator_layer_norm': True}
  cells = [study_cell('non-saturating', {}, 0, [(100, 50), (200, 15), (300, 6)], 5.0, 0.1, 0.7),
           study_cell('non-saturating', {}, 1, [(110, 30), (220, 19), (330, 9)], 7.0, 0.3, 0.8),
           study_cell('WGAN-GP', wgan, 0, [(500, 80), (1000, 40)], 40.0, 1.0, 0.5, ema=False),
           study_cell('WGAN-GP', wgan, 1, [(520, 90), (1040, 60)], 60.0, 2.0, 0.6, ema=False)]
  (results / 'loss_study_mnist').mkdir()
  (results / 'loss_study_mnist' / 'cells.jsonl').write_text(
      ''.join(json.dumps(cell) + '\n' for cell in cells))
  assert report.median_curves(cells) == {'non-saturating': ([105, 210, 315], [40, 17, 7.5]),
                                         'WGAN-GP': ([510, 1020], [85, 50])}
  report.write_report(report.collected_runs(str(results)), [], [], 'a test', str(results))
  page = (results / 'REPORT.md').read_text()
  mnist = page.split('### MNIST, fast networks\n\n')[1].split('\n\n![')[0].splitlines()
  assert mnist[0] == ('Study: 3,000 generator steps; cells in [loss_study_mnist/cells.jsonl]('
                      'loss_study_mnist/cells.jsonl), made by [loss_study_mnist/command.sh]('
                      'loss_study_mnist/command.sh), its own page [loss_study_mnist/README.md]('
                      'loss_study_mnist/README.md).')
  assert mnist[2] == ('| family or variant | loss and penalty; other overrides | D\'s '
                      'normalisation | seeds | FD ↓ median [min, max] | KID ↓ | precision ↑ | recall ↑ | '
                      '10-epoch run: FD ↓ | seconds to 10 × real | seconds to 4 × real |')
  # The study's rows, the 10-epoch run of the base's recipe beside its cells, then AC-GAN, a
  # family with a 10-epoch run only.
  assert mnist[4:] == [
      '| non-saturating | non-saturating loss | BN halves | 0,1 | 6.0 [5.0, 7.0] | 0.200 | 0.750 '
      '| 0.650 | [5.4](README.md#dcgan_fast_mnist) (EMA of G) | 35 | – |',
      '| WGAN-GP | WGAN-GP; `n_critic=5` | LN | 0,1 | 50.0 [40.0, 60.0] (G) | 1.500 | 0.550 | '
      '0.450 | – | – | – |',
      '| AC-GAN | non-saturating loss | BN halves | – | – | – | – | – | '
      '[4.0](README.md#acgan_dcgan_mnist) | – | – |',
      '| real train images (reference) | | | | 2.00 | 0.010 | 0.860 | 0.870 | | | |']
  assert page.index('## Every family on the fast networks') < page.index('## MNIST')
  assert ('Fashion-MNIST: no finished cell of the study in loss_study_fashion_mnist/ and no '
          '10-epoch run yet.' in page)
  assert (results / 'fd_vs_seconds_mnist.png').stat().st_size > 0
  assert not (results / 'fd_vs_seconds_fashion_mnist.png').exists()


def test_runs_in_their_original_settings_get_a_section_of_their_own(tmp_path):
  from gans.tools import report
  results = tmp_path / 'results'
  # Told apart by the config file of the train command: wgan.py is WGAN in its paper's
  # settings, wgan_dcgan.py the same family on the fast networks, a headline run.
  for name, fd, config_file in (('mlp_mnist', 30.0, 'mlp'), ('wgan_mnist', 300.0, 'wgan'),
                                ('wgan_dcgan_mnist', 9.0, 'wgan_dcgan')):
    fake_run(results, name, 'mnist', fd, config_file=config_file)
    (results / name / 'samples_epoch_030.png').write_bytes(b'')
  runs = report.collected_runs(str(results))
  report.write_readme(runs, 'a test', str(results))
  report.write_report(runs, [], [], 'a test', str(results))
  readme = (results / 'README.md').read_text()
  headline, original = readme.split('## The original settings\n')
  assert '[mlp_mnist](#mlp_mnist) |' in headline and '[wgan_mnist](#wgan_mnist) |' not in headline
  assert '[wgan_dcgan_mnist](#wgan_dcgan_mnist) |' in headline
  assert '[wgan_mnist](#wgan_mnist) |' in original.split('\n## ')[0]
  page = (results / 'REPORT.md').read_text().split('## MNIST\n')[1]
  headline, original = page.split('### The original settings\n')
  assert '[mlp_mnist](README.md#mlp_mnist)' in headline and 'wgan_mnist' not in headline
  assert '[wgan_mnist](README.md#wgan_mnist)' in original and 'mlp_mnist' not in original
  assert 'wgan_dcgan_mnist' in headline and 'wgan_dcgan_mnist' not in original
