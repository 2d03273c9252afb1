"""DCGAN of the TensorFlow tutorial (Radford et al. 2015 for 28x28): BatchNorm generator, conv critic."""
import functools
from typing import Callable, Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
from jax import lax


def _phase_taps(size, stride):
  """Which kernel taps feed each output phase of a 'SAME' transposed convolution, on one axis.

  nn.ConvTranspose (lax.conv_transpose, kernel not flipped) pads the stride-dilated input by
  `pad` on the left and correlates, so y[o] = sum_i x[i] w[stride * i + pad - o]. For the output
  phase r = o mod stride, o = stride * q + r, that is a stride-1 correlation over offsets
  d = i - q in [first, last] with taps w[stride * d + pad - r]. Returns `taps` (offsets, stride),
  holding `size` (a zero tap) where a phase has no tap at that offset, and the correlation's
  (left, right) padding.
  """
  # lax.conv_transpose's left padding for 'SAME' (jax._src.lax.convolution._conv_transpose_padding).
  pad = size - 1 if stride > size - 1 else (size + stride - 1) // 2
  first, last = -(pad // stride), (size + stride - 2 - pad) // stride
  taps = stride * np.arange(first, last + 1)[:, None] + pad - np.arange(stride)[None, :]
  return np.where((taps >= 0) & (taps < size), taps, size), (-first, last)


class SubpixelConvTranspose(nn.Module):
  """nn.ConvTranspose(features, kernel_size, strides, padding='SAME', use_bias=False), faster.

  A stride-s transposed convolution is s * s stride-1 convolutions of the undilated input, one
  per output phase (output pixels o with o mod s = r), each with its own subset of the kernel's
  taps. They run as one convolution whose output channels are the phases, interleaved
  afterwards (depth to space). Why: nn.ConvTranspose convolves the stride-dilated input, and on
  XLA:CPU the kernel gradient of that is about ten times slower than this whole layer's forward
  and backward at the seed DCGAN's sizes. The parameter is nn.ConvTranspose's `kernel`, same
  shape and initialiser, so either module loads the other's checkpoints.
  """
  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int]
  kernel_init: Callable = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x):
    in_features = x.shape[-1]
    kernel = self.param('kernel', self.kernel_init,
                        tuple(self.kernel_size) + (in_features, self.features))
    (rows, row_padding), (cols, col_padding) = (
        _phase_taps(size, stride) for size, stride in zip(self.kernel_size, self.strides))
    kernel = jnp.pad(kernel, ((0, 1), (0, 1), (0, 0), (0, 0)))  # the zero tap at index size
    # (row offsets, col offsets, row phases, col phases, in, out) -> phases as output channels.
    phases = kernel[rows[:, None, :, None], cols[None, :, None, :]].transpose(0, 1, 4, 2, 3, 5)
    row_stride, col_stride = self.strides
    phases = phases.reshape(phases.shape[:3] + (row_stride * col_stride * self.features,))
    y = lax.conv_general_dilated(x, phases, (1, 1), (row_padding, col_padding),
                                 dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    batch, height, width, _ = y.shape
    y = y.reshape(batch, height, width, row_stride, col_stride, self.features)
    return y.transpose(0, 1, 3, 2, 4, 5).reshape(
        batch, height * row_stride, width * col_stride, self.features)


# How the generator computes its transposed convolutions; all hold the same `kernel` parameter.
TRANSPOSED_CONVS = {
    'plain': functools.partial(nn.ConvTranspose, padding='SAME', use_bias=False),
    'subpixel': SubpixelConvTranspose,
}


class Generator(nn.Module):
  """Dense -> 7x7 maps -> ConvTranspose stack -> 28x28x1 in [-1, 1].

  `axis_name` makes BatchNorm average its batch statistics over a pmap axis, so a batch split
  over devices is normalised exactly as the whole batch would be on one device.
  `transposed_conv` picks a formulation from TRANSPOSED_CONVS; the parameters are the same.
  """
  features: Sequence[int] = (256, 128, 64)
  kernel_size: int = 5
  negative_slope: float = 0.3
  axis_name: Optional[str] = None
  transposed_conv: str = 'plain'

  @nn.compact
  def __call__(self, z, *, train):
    norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                                axis_name=self.axis_name)
    act = lambda x: nn.leaky_relu(x, self.negative_slope)
    x = act(norm()(nn.Dense(7 * 7 * self.features[0], use_bias=False)(z)))
    x = x.reshape((-1, 7, 7, self.features[0]))
    kernel = (self.kernel_size, self.kernel_size)
    conv_transpose = TRANSPOSED_CONVS[self.transposed_conv]
    out_features = list(self.features[1:]) + [1]
    for i, feat in enumerate(out_features):
      stride = 2 if i >= len(out_features) - 2 else 1
      # Named as nn.ConvTranspose names itself, so every formulation has one parameter tree.
      x = conv_transpose(feat, kernel, (stride, stride), name=f'ConvTranspose_{i}')(x)
      if i < len(out_features) - 1:
        x = act(norm()(x))
    return jnp.tanh(x)


class Discriminator(nn.Module):
  features: Sequence[int] = (64, 128)
  kernel_size: int = 5
  negative_slope: float = 0.3
  dropout_rate: float = 0.3
  outputs: int = 1  # 1: one real/fake logit per image, (B,); more: (B, outputs) logits

  @nn.compact
  def __call__(self, x, *, train):
    for feat in self.features:
      x = nn.Conv(feat, (self.kernel_size, self.kernel_size), strides=(2, 2), padding='SAME')(x)
      x = nn.leaky_relu(x, self.negative_slope)
      x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    x = nn.Dense(self.outputs)(x.reshape((x.shape[0], -1)))
    return x[:, 0] if self.outputs == 1 else x


def build(config, axis_name=None, discriminator_outputs=1):
  c = config.dcgan
  return (Generator(c.generator_features, c.kernel_size, c.negative_slope, axis_name,
                    c.transposed_conv),
          Discriminator(c.discriminator_features, c.kernel_size, c.negative_slope, c.dropout_rate,
                        discriminator_outputs))
