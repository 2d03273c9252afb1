"""The augmentation runner on a tiny grid: the cells it plans, its table, and its resume."""
import os

import jax
import numpy as np
import optax
import pytest

from conftest import tiny_config
from gans.core import data
from gans.core.errors import UsageError
from gans.core.models import lenet
from gans.evaluation import sampling, supervised
from gans.experiments import augmentation
from gans.training import loop
from test_conditional import conditional_config

SETTINGS = augmentation.Settings('mnist', num_steps=3, batch_size=8, learning_rate=1e-3)


@pytest.fixture
def cgan_workdir(tmp_path, data_dir):
  workdir = str(tmp_path / 'cgan')
  loop.train(conditional_config('cgan', data_dir=data_dir, num_steps=2), workdir)
  return workdir


def test_plan_shares_the_real_only_cells_and_adds_synthetic_only():
  cells = augmentation.plan(['a', 'b'], [0, 1], [0.5, 1.0], [0], synthetic_only=True)
  assert cells == [('real_only', 0.5, 0, 0), ('a', 0.5, 1, 0), ('b', 0.5, 1, 0),
                   ('real_only', 1.0, 0, 0), ('a', 1.0, 1, 0), ('b', 1.0, 1, 0),
                   ('a', 1.0, 'synthetic_only', 0), ('b', 1.0, 'synthetic_only', 0)]


def test_tiny_grid_writes_its_cells_and_skips_them_on_a_second_run(tmp_path, data_dir,
                                                                  cgan_workdir, monkeypatch):
  output = str(tmp_path / 'grid')
  args = (SETTINGS, {'cgan': cgan_workdir}, [0, 1], [0.5, 1.0], [0, 1], output)
  cells = augmentation.run_grid(*args, data_dir=data_dir)
  assert len(cells) == 2 * (2 + 2 + 1)
  by_key = {augmentation.cell_key(c): c for c in cells}
  half = by_key[('cgan', 0.5, 1, 0)]
  assert (half['num_real'], half['num_synthetic']) == (32, 32)
  assert (by_key[('cgan', 1.0, 'synthetic_only', 1)]['num_real'],
          by_key[('cgan', 1.0, 'synthetic_only', 1)]['num_synthetic']) == (0, 64)
  assert all(0 <= c['test_accuracy'] <= 1 for c in cells)

  # The table and plot are rewritten after each cell, so they already hold every cell.
  with open(os.path.join(output, 'augmentation.md')) as f:
    table = f.read()
  assert table == augmentation.markdown(cells, SETTINGS)
  assert '| 50 % | cgan |' in table and '| 100 % | cgan |' in table and '| cgan |' in table
  assert os.path.getsize(os.path.join(output, 'augmentation.png')) > 0

  # A second run, one more seed: only that seed's cells train.
  trained = []
  monkeypatch.setattr(augmentation, 'train_and_score',
                      lambda *a: trained.append(a) or 0.5)
  with open(os.path.join(output, 'cells.jsonl'), 'a') as f:
    f.write('{"generator": "cgan", "fra')  # a line torn by a kill
  cells = augmentation.run_grid(*args[:4], [0, 1, 2], output, data_dir=data_dir)
  assert len(trained) == 5 and len(cells) == 15


def test_summary_is_mean_and_std_over_seeds():
  cells = [{'generator': 'g', 'fraction': 1.0, 'ratio': 1, 'seed': s, 'test_accuracy': a}
           for s, a in enumerate([0.9, 0.8, 0.7])]
  mean, std, count = augmentation.summarise(cells)[('g', 1.0, 1)]
  assert count == 3 and mean == pytest.approx(0.8) and std == pytest.approx(np.std([0.9, 0.8, 0.7]))


def test_a_table_of_baselines_alone_has_their_rows_and_no_empty_column():
  cells = [{'generator': 'real_only', 'fraction': 0.01, 'ratio': 0, 'seed': s,
            'test_accuracy': a} for s, a in enumerate([0.94, 0.96])]
  table = augmentation.markdown(cells, SETTINGS)
  assert '| real fraction | generator | ratio 0 (real only) |\n|---|---|---|\n' in table
  assert '| 1 % | – | 95.00 ± 1.00 |' in table


def test_other_settings_in_the_same_output_dir_are_refused(tmp_path, data_dir):
  output = str(tmp_path / 'grid')
  augmentation.run_grid(SETTINGS, {}, [0], [1.0], [0], output, synthetic_only=False,
                        data_dir=data_dir)
  other = augmentation.Settings('mnist', num_steps=4, batch_size=8, learning_rate=1e-3)
  with pytest.raises(UsageError, match='holds a grid made with'):
    augmentation.run_grid(other, {}, [0], [1.0], [0], output, synthetic_only=False,
                          data_dir=data_dir)


def test_a_generator_without_labels_is_refused(tmp_path, data_dir):
  workdir = str(tmp_path / 'mlp')
  loop.train(tiny_config('mlp', data_dir, num_steps=2), workdir)
  with pytest.raises(UsageError, match="generator 'plain' .* does not take labels"):
    augmentation.run_grid(SETTINGS, {'plain': workdir}, [0, 1], [1.0], [0],
                          str(tmp_path / 'grid'), data_dir=data_dir)


def test_train_classifier_learns_separable_classes():
  rng = np.random.default_rng(0)
  labels = np.arange(200) % 2
  images = np.where(labels[:, None, None] == 1, 200, 30).astype(np.uint8)
  images = np.clip(images + rng.integers(-20, 20, (200, 28, 28)), 0, 255).astype(np.uint8)
  network = lenet.Classifier(2)
  params = supervised.train_classifier(network, optax.adam(1e-3), images, labels, 30, 16,
                                       jax.random.key(0),
                                       logits_of=lambda outputs: outputs[0])
  logits, _ = network.apply({'params': params}, data.to_float(images)[..., None], train=False)
  assert np.mean(np.asarray(logits).argmax(-1) == labels) == 1.0


def test_ema_generators_are_sampled_from_their_ema_and_kept_to_it(tmp_path, data_dir,
                                                                   monkeypatch):
  workdir = str(tmp_path / 'cgan_ema')
  loop.train(conditional_config('cgan', data_dir=data_dir, num_steps=2, ema_decay=0.5), workdir)
  trained = {}
  monkeypatch.setattr(augmentation, 'train_and_score',
                      lambda settings, images, labels, *rest: trained.setdefault(
                          rest[-1], (images, labels)) and 0.5)
  output = str(tmp_path / 'grid')
  augmentation.run_grid(SETTINGS, {'g': workdir, 'g_ema': workdir}, [1], [1.0], [0], output,
                        synthetic_only=False, data_dir=data_dir, ema_generators=['g_ema'])
  (g_images, _), (ema_images, ema_labels) = trained['cell 1/2'], trained['cell 2/2']
  num_real = len(g_images) // 2
  for use_ema, images in ((False, g_images), (True, ema_images)):
    family, generator, variables = sampling.load_generator(workdir, use_ema)
    expected, labels = sampling.generate(family, generator, variables, num_real, seed=0)
    np.testing.assert_array_equal(images[num_real:], expected.reshape(images[num_real:].shape))
  np.testing.assert_array_equal(ema_labels[num_real:], labels)
  assert not np.array_equal(g_images[num_real:], ema_images[num_real:])

  with pytest.raises(UsageError, match="generator 'g_ema' sampled from its EMA"):
    augmentation.run_grid(SETTINGS, {'g_ema': workdir}, [1], [1.0], [0], output,
                          synthetic_only=False, data_dir=data_dir)
  with pytest.raises(UsageError, match='--ema_generators names h, not among --generators'):
    augmentation.run_grid(SETTINGS, {'g': workdir}, [1], [1.0], [0], output,
                          synthetic_only=False, data_dir=data_dir, ema_generators=['h'])
  without = str(tmp_path / 'cgan')
  loop.train(conditional_config('cgan', data_dir=data_dir, num_steps=2), without)
  with pytest.raises(UsageError, match='--ema_generators: .*kept no EMA'):
    augmentation.run_grid(SETTINGS, {'plain': without}, [1], [1.0], [0], str(tmp_path / 'g2'),
                          synthetic_only=False, data_dir=data_dir, ema_generators=['plain'])
