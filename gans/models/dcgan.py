"""DCGAN of the TensorFlow tutorial (Radford et al. 2015 for 28x28): BatchNorm generator, conv critic."""
from typing import Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp


class Generator(nn.Module):
  """Dense -> 7x7 maps -> ConvTranspose stack -> 28x28x1 in [-1, 1].

  `axis_name` makes BatchNorm average its batch statistics over a pmap axis, so a batch split
  over devices is normalised exactly as the whole batch would be on one device.
  """
  features: Sequence[int] = (256, 128, 64)
  kernel_size: int = 5
  negative_slope: float = 0.3
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, z, *, train):
    norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                                axis_name=self.axis_name)
    act = lambda x: nn.leaky_relu(x, self.negative_slope)
    x = act(norm()(nn.Dense(7 * 7 * self.features[0], use_bias=False)(z)))
    x = x.reshape((-1, 7, 7, self.features[0]))
    kernel = (self.kernel_size, self.kernel_size)
    out_features = list(self.features[1:]) + [1]
    for i, feat in enumerate(out_features):
      stride = 2 if i >= len(out_features) - 2 else 1
      x = nn.ConvTranspose(feat, kernel, strides=(stride, stride), padding='SAME', use_bias=False)(x)
      if i < len(out_features) - 1:
        x = act(norm()(x))
    return jnp.tanh(x)


class Discriminator(nn.Module):
  features: Sequence[int] = (64, 128)
  kernel_size: int = 5
  negative_slope: float = 0.3
  dropout_rate: float = 0.3

  @nn.compact
  def __call__(self, x, *, train):
    for feat in self.features:
      x = nn.Conv(feat, (self.kernel_size, self.kernel_size), strides=(2, 2), padding='SAME')(x)
      x = nn.leaky_relu(x, self.negative_slope)
      x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    return nn.Dense(1)(x.reshape((x.shape[0], -1)))[:, 0]


def build(config, axis_name=None):
  c = config.dcgan
  return (Generator(c.generator_features, c.kernel_size, c.negative_slope, axis_name),
          Discriminator(c.discriminator_features, c.kernel_size, c.negative_slope, c.dropout_rate))
