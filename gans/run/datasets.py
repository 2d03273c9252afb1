"""The MNIST family read from disk as whole in-memory numpy splits.

Source order: IDX gzip files in `<data_dir>/<dataset>/` (data_dir from the flag, else
$GANS_DATA_DIR), then TensorFlow Datasets (prepared data in $TFDS_DATA_DIR, else a download).
"""
import gzip
import os
import socket
from typing import Optional

import numpy as np

from gans.core.data import IMAGE_SHAPE, DatasetInfo, get_info
from gans.core.errors import UsageError

SPLITS = {'train': 'train', 'test': 't10k'}  # our split name -> MNIST file stem
DOWNLOAD_HOST = ('storage.googleapis.com', 443)  # where TFDS fetches its data from


def read_idx(path) -> np.ndarray:
  """Reads an IDX file (gzip or raw) of unsigned bytes: magic 0x0000080N, N big-endian dims."""
  opener = gzip.open if str(path).endswith('.gz') else open
  with opener(path, 'rb') as f:
    raw = f.read()
  if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
    raise UsageError(f'{path} is not an IDX file of unsigned bytes (magic {raw[:4].hex()})')
  ndim = raw[3]
  dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
  data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
  if data.size != int(np.prod(dims)):
    raise UsageError(f'{path}: header says {dims} but holds {data.size} bytes (truncated?)')
  return data.reshape(dims)


def idx_paths(info: DatasetInfo, split: str, data_dir: str):
  """The standard file names: MNIST's train/t10k, EMNIST's emnist-<config>-train/test."""
  stem = info.idx_prefix + split if info.idx_prefix else SPLITS[split]
  folder = os.path.join(data_dir, info.name)
  return (os.path.join(folder, f'{stem}-images-idx3-ubyte.gz'),
          os.path.join(folder, f'{stem}-labels-idx1-ubyte.gz'))


def resolve_data_dir(data_dir: Optional[str]) -> Optional[str]:
  return data_dir or os.environ.get('GANS_DATA_DIR') or None


def _download_reachable(timeout: float = 3.0) -> bool:
  """A quick connection test, because a TFDS download attempt offline hangs for minutes."""
  try:
    socket.create_connection(DOWNLOAD_HOST, timeout=timeout).close()
    return True
  except OSError:
    return False


def _load_tfds(info: DatasetInfo, split: str, where: str):
  import tensorflow_datasets as tfds  # only when no local files: it is slow to import
  builder = tfds.builder(info.name)
  if not builder.is_prepared() and not _download_reachable():
    raise UsageError(
        f'dataset {info.name!r} is not available offline: {where}, and TensorFlow Datasets has no '
        f'prepared copy and cannot reach {DOWNLOAD_HOST[0]}. Either put the IDX gzip files there '
        f'(--data_dir or $GANS_DATA_DIR) or run once online so TFDS downloads it '
        f'(needs tensorflow-cpu).')
  source = tfds.data_source(info.name, split=split)
  examples = [source[i] for i in range(len(source))]
  images = np.stack([np.asarray(ex['image'], np.uint8).reshape(28, 28) for ex in examples])
  labels = np.array([int(ex['label']) for ex in examples], np.int64)
  return images, labels


def load_split(name: str, split: str = 'train', data_dir: Optional[str] = None):
  """Returns (images uint8 (N, 28, 28, 1) upright, labels int32 (N,) in [0, num_classes))."""
  info = get_info(name)
  if split not in SPLITS:
    raise UsageError(f'unknown split {split!r}; allowed: {", ".join(SPLITS)}')
  data_dir = resolve_data_dir(data_dir)
  paths = idx_paths(info, split, data_dir) if data_dir else None
  if paths and all(os.path.exists(p) for p in paths):
    images, labels = read_idx(paths[0]), read_idx(paths[1])
  else:
    where = (f'no {os.path.basename(paths[0])} in {os.path.dirname(paths[0])}' if paths
             else 'no --data_dir or $GANS_DATA_DIR is set')
    images, labels = _load_tfds(info, split, where)
  if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE[:2] or len(images) != len(labels):
    raise UsageError(f'{name} {split}: expected N 28x28 images and N labels, got images '
                     f'{images.shape} and labels {labels.shape}')
  if info.transposed:
    images = images.transpose(0, 2, 1)
  labels = labels.astype(np.int32) - info.label_offset
  if labels.size and (labels.min() < 0 or labels.max() >= info.num_classes):
    raise UsageError(f'{name} {split}: labels span [{labels.min()}, {labels.max()}] after offset '
                     f'{info.label_offset}; allowed [0, {info.num_classes})')
  return images[..., None], labels
