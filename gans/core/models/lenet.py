"""LeNet-style evaluator classifier: the yardstick of every metric (features = penultimate layer)."""
from typing import Sequence

import flax.linen as nn


class Classifier(nn.Module):
  """Two conv+pool blocks, one hidden Dense layer (the features), then the class logits."""
  num_classes: int
  conv_features: Sequence[int] = (32, 64)
  kernel_size: int = 5
  feature_dim: int = 128
  dropout_rate: float = 0.5

  @nn.compact
  def __call__(self, x, *, train):
    """x: float (N, 28, 28, 1) in [-1, 1] -> (logits (N, classes), features (N, feature_dim))."""
    for feat in self.conv_features:
      x = nn.relu(nn.Conv(feat, (self.kernel_size, self.kernel_size), padding='SAME')(x))
      x = nn.max_pool(x, (2, 2), strides=(2, 2))
    features = nn.relu(nn.Dense(self.feature_dim)(x.reshape((x.shape[0], -1))))
    hidden = nn.Dropout(self.dropout_rate, deterministic=not train)(features)
    return nn.Dense(self.num_classes)(hidden), features
