"""Data: IDX files written here, the TFDS path under mock_data, offline failure, batching."""
import os

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds

from conftest import tiny_config, write_idx, write_mnist_like
from gans.core import data, families
from gans.core import parallel
from gans.core import step as step_lib
from gans.core.errors import UsageError
from gans.run import datasets, runs
from gans.training import loop

KEY = jax.random.key(0)


@pytest.mark.parametrize('suffix', ['.gz', ''])
def test_read_idx_round_trips_arrays(tmp_path, suffix):
  array = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
  path = str(tmp_path / f'images-idx3-ubyte{suffix}')
  write_idx(path, array)
  np.testing.assert_array_equal(datasets.read_idx(path), array)


def test_read_idx_rejects_bad_files(tmp_path):
  bad_magic = tmp_path / 'bad'
  bad_magic.write_bytes(b'\x12\x34\x56\x78' + bytes(16))
  with pytest.raises(UsageError, match='not an IDX file'):
    datasets.read_idx(str(bad_magic))
  truncated = tmp_path / 'truncated'
  truncated.write_bytes(bytes([0, 0, 8, 1]) + (10).to_bytes(4, 'big') + bytes(3))
  with pytest.raises(UsageError, match='truncated'):
    datasets.read_idx(str(truncated))


def test_local_idx_split_is_read_with_labels(data_dir):
  images, labels = datasets.load_split('mnist', 'test', data_dir)
  raw = datasets.read_idx(os.path.join(data_dir, 'mnist', 't10k-images-idx3-ubyte.gz'))
  assert images.shape == (16, 28, 28, 1) and images.dtype == np.uint8
  np.testing.assert_array_equal(images[..., 0], raw)
  np.testing.assert_array_equal(labels, np.arange(16) % 10)
  assert labels.dtype == np.int32


def test_environment_variable_names_the_data_dir(data_dir, monkeypatch):
  monkeypatch.setenv('GANS_DATA_DIR', data_dir)
  images, _ = datasets.load_split('mnist', 'train')
  assert images.shape == (64, 28, 28, 1)


def test_emnist_letters_are_upright_and_zero_based(tmp_path):
  folder = str(tmp_path / 'emnist' / 'letters')
  write_mnist_like(folder, num_classes=26, label_offset=1,
                   stems=('emnist-letters-train', 'emnist-letters-test'))
  images, labels = datasets.load_split('emnist/letters', 'train', str(tmp_path))
  raw = datasets.read_idx(os.path.join(folder, 'emnist-letters-train-images-idx3-ubyte.gz'))
  np.testing.assert_array_equal(images[..., 0], raw.transpose(0, 2, 1))
  assert labels.min() == 0 and labels.max() == 25


def test_every_dataset_has_its_class_count():
  assert {name: info.num_classes for name, info in data.DATASETS.items()} == {
      'mnist': 10, 'fashion_mnist': 10, 'kmnist': 10, 'emnist/byclass': 62,
      'emnist/balanced': 47, 'emnist/letters': 26, 'emnist/digits': 10}


@pytest.mark.parametrize('name', ['mnist', 'kmnist', 'emnist/byclass'])
def test_tfds_path_is_used_without_local_files(name, tmp_path, monkeypatch):
  monkeypatch.delenv('GANS_DATA_DIR', raising=False)
  monkeypatch.setattr(datasets, '_download_reachable', lambda timeout=3.0: True)
  with tfds.testing.mock_data(num_examples=12):
    images, labels = datasets.load_split(name, 'train')
  assert images.shape == (12, 28, 28, 1) and images.dtype == np.uint8
  assert labels.shape == (12,)
  assert 0 <= labels.min() and labels.max() < data.DATASETS[name].num_classes


def test_offline_without_files_fails_fast_naming_both_sources(tmp_path, monkeypatch):
  monkeypatch.setenv('TFDS_DATA_DIR', str(tmp_path / 'tfds'))  # nothing prepared there
  monkeypatch.setattr(datasets, '_download_reachable', lambda timeout=3.0: False)
  # Fast: no download or preparation is attempted (offline, that would hang for minutes).
  def never(*args, **kwargs):
    raise AssertionError('a download was attempted')
  monkeypatch.setattr(tfds, 'data_source', never)
  monkeypatch.setattr(tfds.core.DatasetBuilder, 'download_and_prepare', never)
  with pytest.raises(UsageError) as error:
    datasets.load_split('fashion_mnist', 'train', str(tmp_path / 'empty'))
  message = str(error.value)
  assert "'fashion_mnist'" in message and 'GANS_DATA_DIR' in message and 'online' in message
  assert '\n' not in message


def test_unknown_names_are_refused():
  with pytest.raises(UsageError, match="unknown dataset 'cifar10'; allowed: mnist"):
    datasets.load_split('cifar10')
  with pytest.raises(UsageError, match="unknown split 'validation'"):
    datasets.load_split('mnist', 'validation')


def test_pixels_map_to_minus_one_one_and_back():
  pixels = np.arange(256, dtype=np.uint8)
  floats = data.to_float(pixels)
  assert floats.min() == -1.0 and floats.max() == 1.0
  np.testing.assert_array_equal(data.to_uint8(floats), pixels)


def make_images(num_images=50):
  """Image i is all pixels i, label i: a gathered batch shows which images it holds."""
  images = np.arange(num_images, dtype=np.uint8).reshape(-1, 1, 1, 1) * np.ones((1, 28, 28, 1),
                                                                                np.uint8)
  return images, np.arange(num_images, dtype=np.int32)


def label_family():
  """A family whose batches carry labels (cGAN): images must travel with them."""
  return families.build(tiny_config('cgan'))


def batch_of(step, num_images=50, global_batch=8, family=None, axis_name=None):
  """The batch of `step` as the run gathers it: the epoch's order, then gather_batch."""
  family = family or label_family()
  images, labels = make_images(num_images)
  train_data = jax.device_put(family.train_data(images, labels, KEY))  # on the device, as in a run
  spe = num_images // global_batch
  order = data.epoch_order(KEY, step // spe, num_images, global_batch)
  return step_lib.gather_batch(family, train_data, order, step, KEY, axis_name)


def test_each_epoch_is_a_fresh_permutation_without_its_partial_batch():
  orders = [np.asarray(data.epoch_order(KEY, e, 50, 8)) for e in range(2)]
  # 50 // 8 steps: the last 2 images of each epoch's order dropped.
  assert orders[0].shape == (6, 8) and orders[0].dtype == np.int32
  for order in orders:
    assert len(set(order.reshape(-1).tolist())) == 48
  assert not np.array_equal(orders[0], orders[1])
  # Images travel with their labels, as floats in [-1, 1].
  batch = batch_of(0)
  np.testing.assert_array_equal(batch['label'], orders[0][0])
  np.testing.assert_array_equal(data.to_uint8(batch['image'][:, 0, 0, 0]), batch['label'])


def test_batches_are_a_pure_function_of_the_step():
  # Another run (a resumed one) gathers the same batch for the same step.
  family = label_family()
  for step in (7, 8, 9, 13):
    np.testing.assert_array_equal(batch_of(step, family=family)['label'],
                                  batch_of(step, family=label_family())['label'])
  # Step 13 of 6-step epochs is batch 1 of epoch 2, and the checkpoint says so.
  np.testing.assert_array_equal(batch_of(13)['label'], data.epoch_order(KEY, 2, 50, 8)[1])
  meta = runs.checkpoint_meta(tiny_config('mlp'), 13, 6)
  assert (meta['epoch'], meta['batch_in_epoch']) == (2, 1)


def test_device_split_preserves_the_global_batch():
  family = label_family()
  whole = jax.jit(lambda: batch_of(3, family=family))()  # compiled, as the split one is
  split = jax.pmap(lambda _: batch_of(3, family=family, axis_name='batch'), axis_name='batch',
                   devices=jax.devices()[:4])(np.zeros(4))  # each device's part of step 3
  assert split['image'].shape == (4, 2, 28, 28, 1)
  np.testing.assert_array_equal(np.asarray(split['label']).reshape(8), whole['label'])
  np.testing.assert_array_equal(np.asarray(split['image']).reshape(8, 28, 28, 1), whole['image'])


def test_devices_hold_disjoint_shards_of_each_global_batch():
  """A sharded run's epoch order is split over the mesh by batch: each device (hence each
  process, which owns its devices) gathers its own slice of every global batch."""
  order = np.asarray(data.epoch_order(KEY, 0, 64, 16))
  placed = parallel.Placement('sharded').put_order(order)
  shards = sorted(placed.addressable_shards, key=lambda shard: shard.index[1].start)
  assert len(shards) == jax.device_count() == 8
  assert all(np.shape(shard.data) == (4, 2) for shard in shards)
  np.testing.assert_array_equal(np.concatenate([np.asarray(s.data) for s in shards], axis=1),
                                order)


def test_batch_larger_than_the_data_is_refused(tmp_path):
  write_mnist_like(str(tmp_path / 'data' / 'mnist'), num_train=50)
  workdir = tmp_path / 'run'
  with pytest.raises(UsageError, match='batch size 64 exceeds the 50 training images'):
    loop.train(tiny_config('mlp', str(tmp_path / 'data'), batch_size=64), str(workdir))
  assert not workdir.exists()
