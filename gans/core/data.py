"""The MNIST family as arrays: image shape, the datasets' class counts, pixel scales, and the
order in which an epoch visits the training split. No file I/O (that is `gans.run.datasets`)."""
import dataclasses

import jax
import numpy as np

from gans.core.errors import UsageError

IMAGE_SHAPE = (28, 28, 1)


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  name: str  # the TFDS name
  num_classes: int
  idx_prefix: str = ''  # EMNIST files are named emnist-<split>-train-images-idx3-ubyte.gz
  label_offset: int = 0  # EMNIST letters are labelled 1..26
  transposed: bool = False  # EMNIST is stored transposed; we show it upright


DATASETS = {
    d.name: d for d in [
        DatasetInfo('mnist', 10),
        DatasetInfo('fashion_mnist', 10),
        DatasetInfo('kmnist', 10),
        DatasetInfo('emnist/byclass', 62, 'emnist-byclass-', transposed=True),
        DatasetInfo('emnist/balanced', 47, 'emnist-balanced-', transposed=True),
        DatasetInfo('emnist/letters', 26, 'emnist-letters-', label_offset=1, transposed=True),
        DatasetInfo('emnist/digits', 10, 'emnist-digits-', transposed=True),
    ]
}


def get_info(name: str) -> DatasetInfo:
  if name not in DATASETS:
    raise UsageError(f'unknown dataset {name!r}; allowed: {", ".join(DATASETS)}')
  return DATASETS[name]


def to_float(images):
  """uint8 [0, 255] -> float32 [-1, 1], the range of the generators' tanh (numpy or jax)."""
  return images.astype(np.float32) / 127.5 - 1.0


def to_uint8(images) -> np.ndarray:
  return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def epoch_order(key, epoch, num_images, batch_size) -> jax.Array:
  """int32 (steps per epoch, batch_size): the image indices of every step of `epoch`.

  The training split in the order permutation(fold_in(key, epoch)), the last
  num_images mod batch_size of them dropped so that every step sees a full batch. Batches are a
  pure function of (key, step), so a run resumed at any step sees the batches it would have.
  """
  steps = num_images // batch_size
  order = jax.random.permutation(jax.random.fold_in(key, epoch), num_images)
  return order[:steps * batch_size].reshape(steps, batch_size).astype(np.int32)
