"""The training loop: determinism, exact resume, workdir identity, non-finite stop, outputs."""
import json
import os
import re

import numpy as np
import pytest

from conftest import assert_bitwise_equal, final_state, tiny_config, write_mnist_like
from gans import checkpoints, losses, trainer
from gans.configs import default
from gans.errors import UsageError


@pytest.mark.parametrize('model', ['mlp', 'dcgan'])
def test_interrupted_and_resumed_run_is_bitwise_equal_to_uninterrupted(tmp_path, data_dir, model):
  config = tiny_config(model, data_dir, steps_per_call=3)
  trainer.train(config, str(tmp_path / 'whole'))
  # The same run stopped after 4 steps (a checkpoint), then the same command again.
  trainer.train(tiny_config(model, data_dir, steps_per_call=3, num_steps=4), str(tmp_path / 'parts'))
  trainer.train(config, str(tmp_path / 'parts'))
  step_a, whole = final_state(tmp_path / 'whole')
  step_b, parts = final_state(tmp_path / 'parts')
  assert step_a == step_b == 8
  assert_bitwise_equal(whole, parts)
  lines = lambda run: open(tmp_path / run / 'metrics.jsonl').read().splitlines()
  train_lines = lambda run: [l for l in lines(run) if 'd_loss' in l]
  assert train_lines('whole') == train_lines('parts')


def test_same_seed_is_bitwise_identical_and_another_seed_differs(tmp_path, data_dir):
  for name, seed in [('a', 0), ('b', 0), ('c', 1)]:
    trainer.train(tiny_config('mlp', data_dir, seed=seed, num_steps=4), str(tmp_path / name))
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
  summary = trainer.train(config, workdir)
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
  assert set(state['keys']) == set(trainer.KEY_NAMES) and state['state']['ema']


def test_eval_every_records_fid_without_changing_training(tmp_path):
  """Evaluation rows land where a fused call crosses a multiple of eval_every_steps."""
  data_dir = str(tmp_path / 'data')
  write_mnist_like(os.path.join(data_dir, 'mnist'), num_train=256, num_test=128)
  plain = tiny_config('mlp', data_dir, steps_per_call=3)
  trainer.train(plain, str(tmp_path / 'plain'))
  evaluated = tiny_config('mlp', data_dir, steps_per_call=3, eval_every_steps=2,
                          eval_num_samples=100, classifier_dir=str(tmp_path / 'classifiers'))
  trainer.train(evaluated, str(tmp_path / 'evaluated'))
  rows = lambda run: [json.loads(l) for l in open(tmp_path / run / 'metrics.jsonl')]
  evals = [r for r in rows('evaluated') if 'eval_fid' in r]
  # Calls of 3 steps, cut at epoch ends (4 steps): 3, 4, 7, 8, each crossing a multiple of 2.
  assert [r['step'] for r in evals] == [3, 4, 7, 8]
  assert all(r['eval_fid'] >= 0 and 1 <= r['eval_classifier_score'] <= 10 for r in evals)
  assert os.path.getsize(tmp_path / 'evaluated' / 'fid.png') > 0
  training_rows = lambda run: [r for r in rows(run) if 'd_loss' in r]
  assert training_rows('plain') == training_rows('evaluated')
  assert_bitwise_equal(final_state(tmp_path / 'plain')[1]['state'],
                       final_state(tmp_path / 'evaluated')[1]['state'])


def test_only_the_last_three_checkpoints_are_kept(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  trainer.train(tiny_config('mlp', data_dir, num_steps=10, checkpoint_every_steps=2), workdir)
  assert sorted(int(d) for d in os.listdir(os.path.join(workdir, 'checkpoints'))) == [6, 8, 10]


@pytest.mark.parametrize('field, value', [('model', 'dcgan'), ('dataset', 'fashion_mnist'),
                                          ('seed', 3)])
def test_a_workdir_of_another_run_is_refused_untouched(tmp_path, data_dir, field, value):
  workdir = str(tmp_path / 'run')
  trainer.train(tiny_config('mlp', data_dir, num_steps=2, checkpoint_every_steps=2), workdir)
  before = sorted(os.listdir(workdir)), open(os.path.join(workdir, 'metrics.jsonl')).read()
  config = tiny_config('mlp', data_dir)
  config[field] = value
  with pytest.raises(UsageError, match=f'{field}='):
    trainer.train(config, workdir)
  assert (sorted(os.listdir(workdir)), open(os.path.join(workdir, 'metrics.jsonl')).read()) == before


def test_architecture_change_is_refused(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  trainer.train(tiny_config('mlp', data_dir, num_steps=2, checkpoint_every_steps=2), workdir)
  config = tiny_config('mlp', data_dir)
  config.mlp.generator_widths = (64,)
  with pytest.raises(UsageError, match='architecture'):
    trainer.train(config, workdir)


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
  for meta_config in (saved, older):
    trainer._check_compatible(config, {'config': meta_config}, 'run')
  config.dcgan.kernel_size = 3
  with pytest.raises(UsageError, match='architecture'):
    trainer._check_compatible(config, {'config': saved}, 'run')


@pytest.mark.parametrize('field', ['transposed_conv', 'conv_input_grad'])
def test_unknown_formulation_is_refused_naming_the_choices(field):
  config = tiny_config('dcgan')
  config.dcgan[field] = 'fft'
  with pytest.raises(UsageError, match=re.escape(
      f"unknown dcgan.{field} 'fft'; allowed: plain, subpixel")):
    trainer.resolve_config(config)


def test_a_checkpoint_saved_before_a_config_field_existed_gets_its_default():
  saved = json.loads(tiny_config('dcgan').to_json_best_effort())
  del saved['dcgan']['transposed_conv']
  config = trainer.config_from_meta({'config': saved})
  assert config.dcgan.transposed_conv == default.get_config().dcgan.transposed_conv
  assert config.dcgan.generator_features == (8, 8, 4) and config.batch_size == 16


def test_non_finite_loss_stops_with_the_step_and_keeps_the_last_checkpoint(
    tmp_path, data_dir, monkeypatch):
  workdir = str(tmp_path / 'run')
  trainer.train(tiny_config('mlp', data_dir, num_steps=4), workdir)
  good = final_state(workdir)
  base = losses.LOSSES['non_saturating']
  poisoned = losses.GANLoss(lambda r, f: base.d_loss(r, f) * np.nan, base.g_loss, logistic=True)
  monkeypatch.setitem(losses.LOSSES, 'non_saturating', poisoned)
  with pytest.raises(trainer.NonFiniteError, match='non-finite d_loss .* at step 5'):
    trainer.train(tiny_config('mlp', data_dir, num_steps=8), workdir)
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
    trainer.train(config, str(workdir))
  assert not workdir.exists()
