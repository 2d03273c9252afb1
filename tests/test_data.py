"""Data: IDX files written here, the TFDS path under mock_data, offline failure, batching."""
import os
import time

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds

from conftest import write_idx, write_mnist_like
from gans import data
from gans.errors import UsageError

KEY = jax.random.key(0)


@pytest.mark.parametrize('suffix', ['.gz', ''])
def test_read_idx_round_trips_arrays(tmp_path, suffix):
  array = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
  path = str(tmp_path / f'images-idx3-ubyte{suffix}')
  write_idx(path, array)
  np.testing.assert_array_equal(data.read_idx(path), array)


def test_read_idx_rejects_bad_files(tmp_path):
  bad_magic = tmp_path / 'bad'
  bad_magic.write_bytes(b'\x12\x34\x56\x78' + bytes(16))
  with pytest.raises(UsageError, match='not an IDX file'):
    data.read_idx(str(bad_magic))
  truncated = tmp_path / 'truncated'
  truncated.write_bytes(bytes([0, 0, 8, 1]) + (10).to_bytes(4, 'big') + bytes(3))
  with pytest.raises(UsageError, match='truncated'):
    data.read_idx(str(truncated))


def test_local_idx_split_is_read_with_labels(data_dir):
  images, labels = data.load_split('mnist', 'test', data_dir)
  raw = data.read_idx(os.path.join(data_dir, 'mnist', 't10k-images-idx3-ubyte.gz'))
  assert images.shape == (16, 28, 28, 1) and images.dtype == np.uint8
  np.testing.assert_array_equal(images[..., 0], raw)
  np.testing.assert_array_equal(labels, np.arange(16) % 10)
  assert labels.dtype == np.int32


def test_environment_variable_names_the_data_dir(data_dir, monkeypatch):
  monkeypatch.setenv('GANS_DATA_DIR', data_dir)
  images, _ = data.load_split('mnist', 'train')
  assert images.shape == (64, 28, 28, 1)


def test_emnist_letters_are_upright_and_zero_based(tmp_path):
  folder = str(tmp_path / 'emnist' / 'letters')
  write_mnist_like(folder, num_classes=26, label_offset=1,
                   stems=('emnist-letters-train', 'emnist-letters-test'))
  images, labels = data.load_split('emnist/letters', 'train', str(tmp_path))
  raw = data.read_idx(os.path.join(folder, 'emnist-letters-train-images-idx3-ubyte.gz'))
  np.testing.assert_array_equal(images[..., 0], raw.transpose(0, 2, 1))
  assert labels.min() == 0 and labels.max() == 25


def test_every_dataset_has_its_class_count():
  assert {name: info.num_classes for name, info in data.DATASETS.items()} == {
      'mnist': 10, 'fashion_mnist': 10, 'kmnist': 10, 'emnist/byclass': 62,
      'emnist/balanced': 47, 'emnist/letters': 26, 'emnist/digits': 10}


@pytest.mark.parametrize('name', ['mnist', 'kmnist', 'emnist/byclass'])
def test_tfds_path_is_used_without_local_files(name, tmp_path, monkeypatch):
  monkeypatch.delenv('GANS_DATA_DIR', raising=False)
  monkeypatch.setattr(data, '_download_reachable', lambda timeout=3.0: True)
  with tfds.testing.mock_data(num_examples=12):
    images, labels = data.load_split(name, 'train')
  assert images.shape == (12, 28, 28, 1) and images.dtype == np.uint8
  assert labels.shape == (12,) and 0 <= labels.min() and labels.max() < data.DATASETS[name].num_classes


def test_offline_without_files_fails_fast_naming_both_sources(tmp_path, monkeypatch):
  monkeypatch.setenv('TFDS_DATA_DIR', str(tmp_path / 'tfds'))  # nothing prepared there
  monkeypatch.setattr(data, '_download_reachable', lambda timeout=3.0: False)
  start = time.perf_counter()
  with pytest.raises(UsageError) as error:
    data.load_split('fashion_mnist', 'train', str(tmp_path / 'empty'))
  message = str(error.value)
  assert time.perf_counter() - start < 10
  assert "'fashion_mnist'" in message and 'GANS_DATA_DIR' in message and 'online' in message
  assert '\n' not in message


def test_unknown_names_are_refused():
  with pytest.raises(UsageError, match="unknown dataset 'cifar10'; allowed: mnist"):
    data.load_split('cifar10')
  with pytest.raises(UsageError, match="unknown split 'validation'"):
    data.load_split('mnist', 'validation')


def test_pixels_map_to_minus_one_one_and_back():
  pixels = np.arange(256, dtype=np.uint8)
  floats = data.to_float(pixels)
  assert floats.min() == -1.0 and floats.max() == 1.0
  np.testing.assert_array_equal(data.to_uint8(floats), pixels)


def make_batches(num_images=50, global_batch=8, **kwargs):
  images = np.arange(num_images, dtype=np.uint8).reshape(-1, 1, 1, 1) * np.ones((1, 28, 28, 1),
                                                                                np.uint8)
  return data.Batches(images, np.arange(num_images, dtype=np.int32), global_batch, KEY, **kwargs)


def test_each_epoch_is_a_fresh_permutation_without_its_partial_batch():
  batches = make_batches()
  assert batches.steps_per_epoch == 6  # 50 // 8: the last 2 images of each epoch's order dropped
  epochs = [batches.get(e * 6, 6)['label'].reshape(-1) for e in range(2)]
  for labels in epochs:
    assert len(set(labels.tolist())) == 48
  assert not np.array_equal(epochs[0], epochs[1])
  # Images travel with their labels, as floats in [-1, 1].
  batch = batches.get(0, 1)
  np.testing.assert_array_equal(data.to_uint8(batch['image'][0, :, 0, 0, 0]), batch['label'][0])


def test_batches_are_a_pure_function_of_the_step():
  a, b = make_batches(), make_batches()
  np.testing.assert_array_equal(a.get(7, 3)['label'], np.concatenate(
      [b.get(7, 1)['label'], b.get(8, 1)['label'], b.get(9, 1)['label']]))
  assert a.position(13) == {'epoch': 2, 'batch_in_epoch': 1}


def test_device_split_preserves_the_global_batch():
  whole = make_batches().get(3, 2)
  split = make_batches(num_devices=4).get(3, 2)
  assert split['image'].shape == (4, 2, 2, 28, 28, 1)
  np.testing.assert_array_equal(np.swapaxes(split['label'], 0, 1).reshape(2, 8), whole['label'])


def test_processes_read_disjoint_shards_of_each_global_batch():
  whole = make_batches().get(5, 1)['label']
  shards = [make_batches(process_index=i, process_count=2).get(5, 1)['label'] for i in range(2)]
  np.testing.assert_array_equal(np.concatenate(shards, axis=1), whole)


def test_batch_larger_than_the_data_is_refused():
  with pytest.raises(UsageError, match='batch size 64 exceeds the 50 training images'):
    make_batches(global_batch=64)
