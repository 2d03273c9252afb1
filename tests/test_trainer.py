"""The training loop: determinism, exact resume, workdir identity, non-finite stop, outputs."""
import json
import logging
import os
import re
import signal

import numpy as np
import pytest

from conftest import (assert_bitwise_equal, final_state, tiny_config, train_evaluator,
                      write_mnist_like)
from gans.configs import default
from gans.core import data, families, losses
from gans.core import parallel
from gans.core import state as state_lib
from gans.core.errors import UsageError
from gans.run import checkpoints, datasets, pictures, runs, signals, writers
from gans.run import config as config_lib
from gans.training import calls, loop


@pytest.mark.parametrize('model', ['mlp', 'dcgan'])
def test_interrupted_and_resumed_run_is_bitwise_equal_to_uninterrupted(tmp_path, data_dir, model):
  # Calls of 3 fused steps on the MLP, cut short at each checkpoint and epoch end (programs of 3
  # and of 1 step); calls of 2 on the DCGAN, whose every extra program takes long to compile.
  steps_per_call = 3 if model == 'mlp' else 2
  config = tiny_config(model, data_dir, steps_per_call=steps_per_call)
  loop.train(config, str(tmp_path / 'whole'))
  # The same run stopped after 4 steps (a checkpoint), then the same command again.
  loop.train(tiny_config(model, data_dir, steps_per_call=steps_per_call, num_steps=4),
             str(tmp_path / 'parts'))
  loop.train(config, str(tmp_path / 'parts'))
  step_a, whole = final_state(tmp_path / 'whole')
  step_b, parts = final_state(tmp_path / 'parts')
  assert step_a == step_b == 8
  assert_bitwise_equal(whole, parts)
  lines = lambda run: open(tmp_path / run / 'metrics.jsonl').read().splitlines()
  train_lines = lambda run: [l for l in lines(run) if 'd_loss' in l]
  assert train_lines('whole') == train_lines('parts')


def test_calls_end_at_the_run_epoch_and_periodic_boundaries():
  plan = calls.FusedCalls('step', None, None, steps_per_call=5, steps_per_epoch=12,
                          total_steps=30, every=(8, 0), at=(3,))
  ends, step = [], 0
  while step < 30:
    step += plan.count(step)
    ends.append(step)
  # 3 (a profiled range's end), 8 (a checkpoint), 12 and 24 (epochs), 16 (a checkpoint), 30 (the
  # run's end); elsewhere calls of 5.
  assert ends == [3, 8, 12, 16, 21, 24, 29, 30]


def test_a_run_says_it_compiles_before_the_long_first_compile(tmp_path, data_dir, caplog):
  with caplog.at_level(logging.INFO):
    summary = loop.train(tiny_config('mlp', data_dir, num_steps=4), str(tmp_path / 'run'))
  lines = [r.getMessage() for r in caplog.records]
  first = [i for i, line in enumerate(lines) if 'compiling the train step (first call' in line]
  done = [i for i, line in enumerate(lines) if line.startswith('compiled the train step of 1 ')]
  assert len(first) == 1 and len(done) == 1 and first[0] < done[0], lines
  assert summary['compile_seconds'] > 0


def test_a_stop_at_an_epoch_end_writes_the_epoch_as_an_uninterrupted_run(tmp_path, data_dir,
                                                                         monkeypatch):
  """The epoch's row and grid are written before the stop, so the resumed run has them all."""
  config = tiny_config('mlp', data_dir, num_steps=8, checkpoint_every_steps=8)
  loop.train(config, str(tmp_path / 'whole'))
  with monkeypatch.context() as patch:
    def should_stop(self, step):
      self.received = signal.SIGTERM if step == 4 else None
      return step == 4
    patch.setattr(signals.StopSignals, 'should_stop', should_stop)
    with pytest.raises(loop.Interrupted, match='stopped by SIGTERM at step 4'):
      loop.train(config, str(tmp_path / 'parts'))
  loop.train(config, str(tmp_path / 'parts'))
  rows = lambda run: [json.loads(l) for l in open(tmp_path / run / 'metrics.jsonl')]
  drop_seconds = lambda row: {k: v for k, v in row.items() if 'seconds' not in k}
  assert ([drop_seconds(r) for r in rows('whole')] == [drop_seconds(r) for r in rows('parts')])
  assert [r['epoch_end'] for r in rows('parts') if 'epoch_end' in r] == [1, 2]
  grids = lambda run: sorted(os.listdir(tmp_path / run / 'samples'))
  assert grids('whole') == grids('parts') == ['step_0000004.png', 'step_0000008.png']
  assert_bitwise_equal(final_state(tmp_path / 'whole'), final_state(tmp_path / 'parts'))


def test_same_seed_is_bitwise_identical_and_another_seed_differs(tmp_path, data_dir):
  for name, seed in [('a', 0), ('b', 0), ('c', 1)]:
    loop.train(tiny_config('mlp', data_dir, seed=seed, num_steps=4), str(tmp_path / name))
  _, a = final_state(tmp_path / 'a')
  _, b = final_state(tmp_path / 'b')
  _, c = final_state(tmp_path / 'c')
  assert_bitwise_equal(a, b)
  assert not np.array_equal(a['state']['generator']['params']['Dense_0']['kernel'],
                            c['state']['generator']['params']['Dense_0']['kernel'])


def test_pmap_run_writes_everything_a_run_should(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  config = tiny_config('dcgan', data_dir, parallel='pmap', num_steps=None, num_epochs=2,
                       ema_decay=0.99)
  summary = loop.train(config, workdir)
  assert summary['steps'] == 8 and summary['steps_per_epoch'] == 4  # 64 images / 16
  assert summary['seconds_per_epoch'] > 0
  for name in ['losses.png', 'dx_dgz.png', 'progress.gif', 'samples/step_0000004.png',
               'samples/step_0000008.png']:
    assert os.path.getsize(os.path.join(workdir, name)) > 0, name
  rows = [json.loads(l) for l in open(os.path.join(workdir, 'metrics.jsonl'))]
  assert [r['step'] for r in rows if 'd_loss' in r] == [2, 4, 6, 8]
  assert [r['epoch_end'] for r in rows if 'epoch_end' in r] == [1, 2]
  assert sorted(int(d) for d in os.listdir(os.path.join(workdir, 'checkpoints'))) == [4, 8]
  meta = checkpoints.read_latest_meta(workdir)
  assert meta['step'] == 8 and meta['epoch'] == 2 and meta['batch_in_epoch'] == 0
  assert meta['config']['model'] == 'dcgan'
  _, state = final_state(workdir)
  # The PRNG keys are not stored: they are runs.root_keys(seed) (test_a_run_is_a_function_...).
  assert set(state) == {'state'} and state['state']['ema']


def test_a_run_is_a_function_of_its_seeds_root_keys(tmp_path, data_dir):
  """A checkpoint holds no keys; replaying the steps with runs.root_keys(seed) from a fresh
  state gives the run's checkpoint bit for bit."""
  workdir = str(tmp_path / 'run')
  config = tiny_config('mlp', data_dir, num_steps=4, steps_per_call=4, seed=5)
  loop.train(config, workdir)
  step, saved = final_state(workdir)
  assert step == 4 and set(saved) == {'state'}
  saved_config, _, _, saved_state = runs.load(workdir)  # the checkpoint as a GANState
  assert saved_config.seed == 5 and int(saved_state.step) == 4

  keys = runs.root_keys(config.seed)
  assert tuple(keys) == runs.KEY_NAMES
  family = families.build(config)
  images, labels = datasets.load_split('mnist', 'train', data_dir)
  placement = parallel.Placement('jit')
  state = placement.put(state_lib.create_state(config, family, family.networks(), keys['init']))
  train_data = placement.put(family.train_data(images, labels, keys['labelled']))
  order = placement.put_order(data.epoch_order(keys['epochs'], 0, len(images), config.batch_size))
  run = placement.compile(config, family, 4)
  state, _ = run(state, train_data, order, {'train': keys['train'], 'batches': keys['batches']})
  assert_bitwise_equal(saved_state, checkpoints.host_tree(state))


def test_eval_every_records_fid_without_changing_training(tmp_path):
  """Evaluation rows land where a fused call crosses a multiple of eval_every_steps."""
  data_dir = str(tmp_path / 'data')
  write_mnist_like(os.path.join(data_dir, 'mnist'), num_train=256, num_test=128)
  plain = tiny_config('mlp', data_dir, steps_per_call=3, ema_decay=0.5)
  loop.train(plain, str(tmp_path / 'plain'))
  evaluated = tiny_config('mlp', data_dir, steps_per_call=3, ema_decay=0.5, eval_every_steps=2,
                          eval_num_samples=100,
                          classifier_dir=train_evaluator(data_dir, str(tmp_path / 'classifiers')))
  loop.train(evaluated, str(tmp_path / 'evaluated'))
  rows = lambda run: [json.loads(l) for l in open(tmp_path / run / 'metrics.jsonl')]
  evals = [r for r in rows('evaluated') if 'eval_fid' in r]
  # Calls of 3 steps, cut at epoch ends (4 steps): 3, 4, 7, 8, each crossing a multiple of 2.
  assert [r['step'] for r in evals] == [3, 4, 7, 8]
  assert all(r['eval_fid'] >= 0 and 1 <= r['eval_classifier_score'] <= 10 for r in evals)
  # The EMA's curve beside G's: other generators, so other distances.
  assert all(r['eval_fid_ema'] >= 0 and 1 <= r['eval_classifier_score_ema'] <= 10 for r in evals)
  assert all(r['eval_fid_ema'] != r['eval_fid'] for r in evals)
  assert os.path.getsize(tmp_path / 'evaluated' / 'fid.png') > 0
  training_rows = lambda run: [r for r in rows(run) if 'd_loss' in r]
  assert training_rows('plain') == training_rows('evaluated')
  assert_bitwise_equal(final_state(tmp_path / 'plain')[1]['state'],
                       final_state(tmp_path / 'evaluated')[1]['state'])


def test_only_the_last_three_checkpoints_are_kept(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', data_dir, num_steps=10, checkpoint_every_steps=2), workdir)
  assert sorted(int(d) for d in os.listdir(os.path.join(workdir, 'checkpoints'))) == [6, 8, 10]


@pytest.mark.parametrize('field, value', [('model', 'dcgan'), ('dataset', 'fashion_mnist'),
                                          ('seed', 3)])
def test_a_workdir_of_another_run_is_refused_untouched(tmp_path, data_dir, field, value):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', data_dir, num_steps=2, checkpoint_every_steps=2), workdir)
  before = sorted(os.listdir(workdir)), open(os.path.join(workdir, 'metrics.jsonl')).read()
  config = tiny_config('mlp', data_dir)
  config[field] = value
  with pytest.raises(UsageError, match=f'{field}='):
    loop.train(config, workdir)
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    assert (sorted(os.listdir(workdir)), f.read()) == before


def test_architecture_change_is_refused(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', data_dir, num_steps=2, checkpoint_every_steps=2), workdir)
  config = tiny_config('mlp', data_dir)
  config.mlp.generator_widths = (64,)
  with pytest.raises(UsageError, match='architecture'):
    loop.train(config, workdir)


@pytest.mark.parametrize('field, other', [('transposed_conv', 'plain'),
                                          ('conv_input_grad', 'plain')])
def test_formulations_are_not_part_of_a_runs_identity(field, other):
  # Every formulation holds the same parameters: a run resumes under either, as do runs saved
  # before the field existed; other architecture changes are still refused.
  saved = json.loads(tiny_config('dcgan').to_json_best_effort())
  older = json.loads(json.dumps(saved))
  del older['dcgan'][field]
  config = tiny_config('dcgan')
  config.dcgan[field] = other
  meta = lambda meta_config: {'format_version': runs.FORMAT_VERSION, 'config': meta_config}
  for meta_config in (saved, older):
    runs.check_compatible(config, meta(meta_config), 'run')
  config.dcgan.kernel_size = 3
  with pytest.raises(UsageError, match='architecture'):
    runs.check_compatible(config, meta(saved), 'run')


@pytest.mark.parametrize('field', ['transposed_conv', 'conv_input_grad'])
def test_unknown_formulation_is_refused_naming_the_choices(field):
  config = tiny_config('dcgan')
  config.dcgan[field] = 'fft'
  with pytest.raises(UsageError, match=re.escape(
      f"unknown dcgan.{field} 'fft'; allowed: plain, subpixel")):
    config_lib.resolve(config)


def test_a_checkpoint_saved_before_a_config_field_existed_gets_its_default():
  saved = json.loads(tiny_config('dcgan').to_json_best_effort())
  del saved['dcgan']['transposed_conv']
  config = runs.config_from_meta({'config': saved})
  assert config.dcgan.transposed_conv == default.get_config().dcgan.transposed_conv
  assert config.dcgan.generator_features == (8, 8, 4) and config.batch_size == 16


def test_non_finite_loss_stops_with_the_step_and_keeps_the_last_checkpoint(
    tmp_path, data_dir, monkeypatch):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', data_dir, num_steps=4), workdir)
  good = final_state(workdir)
  base = losses.LOSSES['non_saturating']
  poisoned = losses.GANLoss(lambda r, f: base.d_loss(r, f) * np.nan, base.g_loss, logistic=True)
  monkeypatch.setitem(losses.LOSSES, 'non_saturating', poisoned)
  with pytest.raises(loop.NonFiniteError, match='non-finite d_loss .* at step 5'):
    loop.train(tiny_config('mlp', data_dir, num_steps=8), workdir)
  step, state = final_state(workdir)
  assert step == 4
  assert_bitwise_equal(state, good[1])


@pytest.mark.parametrize('overrides, message', [
    ({'model': 'vae'}, "unknown model 'vae'; allowed: mlp, dcgan"),
    ({'dataset': 'cifar10'}, "unknown dataset 'cifar10'"),
    ({'loss': 'l1'}, "unknown loss 'l1'"),
    ({'batch_size': 0}, 'batch_size must be a positive integer, got 0'),
    ({'num_steps': -3}, 'num_steps must be a positive integer, got -3'),
    ({'parallel': 'pmap', 'batch_size': 12}, 'not divisible by the 8 devices'),
    ({'log_every_steps': 3}, 'must be a multiple of log_every_steps'),
    ({'eval_every_steps': -1}, 'eval_every_steps must be 0 (off) or a positive integer, got -1'),
    ({'eval_every_steps': 2, 'eval_num_samples': 10}, 'eval_num_samples must be an integer >= 100'),
])
def test_bad_config_is_refused_before_anything_is_written(tmp_path, data_dir, overrides, message):
  workdir = tmp_path / 'run'
  config = tiny_config('mlp', data_dir)
  with pytest.raises(UsageError, match=re.escape(message)):
    for key, value in overrides.items():
      config[key] = value
    loop.train(config, str(workdir))
  assert not workdir.exists()


def snapshot(folder):
  """Every file under `folder` with its bytes and modification time."""
  files = {}
  for d, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(d, name)
      with open(path, 'rb') as f:
        files[os.path.relpath(path, folder)] = (f.read(), os.stat(path).st_mtime_ns)
  return files


def test_a_workdir_of_an_older_run_format_is_refused_untouched(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', data_dir, num_steps=4), workdir)
  # The newest checkpoint's metadata as the first run format wrote it: no format_version.
  meta_path = os.path.join(checkpoints.checkpoint_dir(workdir), '4', 'meta', 'metadata')
  with open(meta_path) as f:
    meta = json.load(f)
  del meta['format_version']
  with open(meta_path, 'w') as f:
    json.dump(meta, f)
  assert 'format_version' not in checkpoints.read_latest_meta(workdir)
  before = snapshot(workdir)
  with pytest.raises(UsageError, match=re.escape(
      f'workdir {workdir!r} was made by an older version of this code (run format 1, this code '
      f'reads {runs.FORMAT_VERSION})')) as error:
    loop.train(tiny_config('mlp', data_dir, num_steps=8), workdir)
  assert '\n' not in str(error.value)
  assert snapshot(workdir) == before


def test_metrics_log_rows_in_memory_equal_the_files_after_a_resume(tmp_path, data_dir,
                                                                    monkeypatch):
  workdir = str(tmp_path / 'run')
  path = os.path.join(workdir, 'metrics.jsonl')
  loop.train(tiny_config('mlp', data_dir, num_steps=4), workdir)
  rows = [json.loads(line) for line in open(path)]
  # A killed run had logged steps past its last checkpoint (4), the last line torn mid-append.
  later = [{**rows[0], 'step': 6, 'd_loss': 99.0}, {**rows[0], 'step': 8, 'd_loss': 99.0}]
  with open(path, 'a') as f:
    f.writelines(json.dumps(row) + '\n' for row in later)
    f.write('{"step": 10, "d_lo')

  log = writers.MetricsLog(path, 2, resume_step=4, write=True)
  assert log.rows == [json.loads(line) for line in open(path)] == rows
  log.add_row(6, 4, {'d_loss': 1.0})
  assert log.rows == [json.loads(line) for line in open(path)] == rows + [
      {'step': 6, 'epoch': 1.5, 'd_loss': 1.0}]

  # And through a resumed run: the curves are drawn from exactly the file's rows.
  with open(path, 'a') as f:
    f.writelines(json.dumps(row) + '\n' for row in later)
  drawn = []
  monkeypatch.setattr(pictures, 'save_run_curves', lambda rows, _: drawn.append(list(rows)))
  loop.train(tiny_config('mlp', data_dir, num_steps=8), workdir)
  file_rows = [json.loads(line) for line in open(path)]
  assert drawn and drawn[-1] == file_rows
  assert [r['step'] for r in file_rows if 'd_loss' in r] == [2, 4, 6, 8]
  assert all(r.get('d_loss') != 99.0 for r in file_rows)
