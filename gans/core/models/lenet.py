"""LeNet-style evaluator classifier: the yardstick of every metric (features = penultimate
layer)."""
from typing import Callable, Sequence

import flax.linen as nn
import jax


def max_pool_2x2(x: jax.Array) -> jax.Array:
  """nn.max_pool(x, (2, 2), strides=(2, 2)) on NHWC maps of even height and width, as a max over
  a reshape. The same values, and the same gradient wherever a window's maximum is unique; XLA
  differentiates nn.max_pool's reduce_window with select_and_scatter, which XLA:CPU runs slowly:
  the classifier's whole training step at batch 128 is about 1.6x faster this way
  (`python -m gans.benchmarks.classifier`)."""
  n, h, w, c = x.shape
  return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class Classifier(nn.Module):
  """Two conv+pool blocks, one hidden Dense layer (the features), then the class logits.

  `pool` halves the maps; any function equal to `max_pool_2x2` gives the same network (the
  benchmark swaps in nn.max_pool)."""
  num_classes: int
  conv_features: Sequence[int] = (32, 64)
  kernel_size: int = 5
  feature_dim: int = 128
  dropout_rate: float = 0.5
  pool: Callable[[jax.Array], jax.Array] = max_pool_2x2

  @nn.compact
  def __call__(self, x, *, train):
    """x: float (N, 28, 28, 1) in [-1, 1] -> (logits (N, classes), features (N, feature_dim))."""
    for feat in self.conv_features:
      x = self.pool(nn.relu(nn.Conv(feat, (self.kernel_size, self.kernel_size), padding='SAME')(x)))
    features = nn.relu(nn.Dense(self.feature_dim)(x.reshape((x.shape[0], -1))))
    hidden = nn.Dropout(self.dropout_rate, deterministic=not train)(features)
    return nn.Dense(self.num_classes)(hidden), features
