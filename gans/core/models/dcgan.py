"""DCGAN of the TensorFlow tutorial (Radford et al. 2015 for 28x28): BatchNorm generator, conv
critic."""
import functools
from typing import Callable, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gans.core.errors import UsageError, check_choice, is_number
from gans.core.models import spectral

_NHWC = ('NHWC', 'HWIO', 'NHWC')


def _phase_taps(size, stride, pad, phase):
  """The first offset and the kernel taps of one output phase of y[o] = sum_i x[i] w[s i + p - o].

  That sum is lax.conv_transpose's (kernel not flipped) with left padding `pad` of the
  stride-dilated input. For the outputs o = stride * q + phase it is a stride-1 correlation
  y[stride * q + phase] = sum_d x[q + d] w[stride * d + pad - phase] over the offsets d whose
  tap lies in [0, size).
  """
  first = -((pad - phase) // stride)
  last = (size - 1 + phase - pad) // stride
  return first, stride * np.arange(first, last + 1) + pad - phase


def conv_transpose_by_phases(x, kernel, strides, pads, out_shape, precision=None):
  """y[o] = sum_i x[i] w[s * i + p - o] on both spatial axes (NHWC, HWIO), o < out_shape.

  A stride-s transposed convolution is s * s stride-1 convolutions of the undilated input, one
  per output phase (outputs o with o mod s = r), each with only its own taps of the kernel,
  interleaved afterwards (depth to space). Why: XLA computes a transposed convolution as a
  convolution of the stride-dilated input, and on XLA:CPU that, and above all its kernel
  gradient, is several times slower than this at the TensorFlow tutorial DCGAN's sizes
  (results/performance.md).
  """
  (row_stride, col_stride), features = strides, kernel.shape[-1]
  batch = x.shape[0]
  # Each phase yields ceil(out / s) positions: pad (or crop: XLA takes negative padding) for it.
  positions = [-(-out // stride) for out, stride in zip(out_shape, strides)]
  rows = []
  for row_phase in range(row_stride):
    row_first, row_taps = _phase_taps(kernel.shape[0], row_stride, pads[0], row_phase)
    cols = []
    for col_phase in range(col_stride):
      col_first, col_taps = _phase_taps(kernel.shape[1], col_stride, pads[1], col_phase)
      if not (row_taps.size and col_taps.size):  # a stride beyond the kernel: no taps
        cols.append(jnp.zeros((batch, *positions, features), x.dtype))
        continue
      padding = [(-first, count + first + taps.size - 1 - size)
                 for first, taps, count, size in zip((row_first, col_first),
                                                     (row_taps, col_taps), positions,
                                                     x.shape[1:3])]
      cols.append(lax.conv_general_dilated(
          x, kernel[row_taps[:, None], col_taps[None, :]], (1, 1), padding,
          dimension_numbers=_NHWC, precision=precision))
    rows.append(jnp.stack(cols, axis=3))  # (batch, q rows, q cols, col phase, features)
  y = jnp.stack(rows, axis=2)  # (batch, q rows, row phase, q cols, col phase, features)
  y = y.reshape(batch, positions[0] * row_stride, positions[1] * col_stride, features)
  return y[:, :out_shape[0], :out_shape[1]]


class SubpixelConvTranspose(nn.Module):
  """nn.ConvTranspose(features, kernel_size, strides, padding='SAME', use_bias=False), faster.

  Computed by conv_transpose_by_phases. The parameter is nn.ConvTranspose's `kernel`, same
  shape and initialiser, so either module loads the other's checkpoints.
  """
  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int]
  kernel_init: Callable = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x):
    kernel = self.param('kernel', self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features))
    # lax.conv_transpose's left padding for 'SAME'
    # (jax._src.lax.convolution._conv_transpose_padding).
    pads = [size - 1 if stride > size - 1 else (size + stride - 1) // 2
            for size, stride in zip(self.kernel_size, self.strides)]
    out_shape = [n * stride for n, stride in zip(x.shape[1:3], self.strides)]
    return conv_transpose_by_phases(x, kernel, self.strides, pads, out_shape)


def _plain_conv(x, kernel, strides, padding, precision):
  return lax.conv_general_dilated(x, kernel, strides, padding, dimension_numbers=_NHWC,
                                  precision=precision)


_conv = jax.custom_vjp(_plain_conv, nondiff_argnums=(2, 3, 4))


def _conv_forward(x, kernel, strides, padding, precision):
  return _plain_conv(x, kernel, strides, padding, precision), (x, kernel)


def _conv_backward(strides, padding, precision, residuals, cotangent):
  """XLA's kernel gradient; the input gradient, a transposed convolution, by phases.

  y[o] = sum_i x[i] w[i + lo - s * o] (lo the left padding), so with the kernel flipped and its
  in/out axes swapped, dx[i] = sum_o dy[o] w'[s * o + (size - 1 - lo) - i]. Both are JAX
  functions of the residuals, so gradients of gradients (WGAN-GP's penalty) go through them.
  """
  x, kernel = residuals
  _, kernel_vjp = jax.vjp(lambda k: _plain_conv(x, k, strides, padding, precision), kernel)
  flipped = jnp.flip(kernel, (0, 1)).swapaxes(2, 3)
  pads = [size - 1 - lo for size, (lo, _) in zip(kernel.shape[:2], padding)]
  dx = conv_transpose_by_phases(cotangent, flipped, strides, pads, x.shape[1:3], precision)
  return dx, kernel_vjp(cotangent)[0]


_conv.defvjp(_conv_forward, _conv_backward)


def conv_with_subpixel_input_grad(lhs, rhs, window_strides, padding, lhs_dilation=None,
                                  rhs_dilation=None, dimension_numbers=None,
                                  feature_group_count=1, precision=None):
  """lax.conv_general_dilated for nn.Conv's `conv_general_dilated`, the same function with an
  input gradient computed by conv_transpose_by_phases instead of a convolution of the
  stride-dilated cotangent, which XLA:CPU runs 2-3x slower at the tutorial discriminator's sizes.

  Takes the 2-D NHWC / HWIO convolutions nn.Conv makes without dilation or feature groups.
  """
  if (lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
      != lax.conv_dimension_numbers(lhs.shape, rhs.shape, _NHWC)
      or any(d != 1 for d in (lhs_dilation or ()) + (rhs_dilation or ()))
      or feature_group_count != 1):
    raise ValueError('conv_with_subpixel_input_grad takes undilated, ungrouped 2-D NHWC/HWIO '
                     f'convolutions, got dimension_numbers={dimension_numbers}, '
                     f'lhs_dilation={lhs_dilation}, rhs_dilation={rhs_dilation}, '
                     f'feature_group_count={feature_group_count}')
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(lhs.shape[1:3], rhs.shape[:2], window_strides, padding)
  return _conv(lhs, rhs, tuple(window_strides), tuple(map(tuple, padding)), precision)


# How the discriminator's convolutions compute their input gradient; the same function.
CONV_INPUT_GRADS = {
    'plain': lax.conv_general_dilated,
    'subpixel': conv_with_subpixel_input_grad,
}

# How the generator computes its transposed convolutions; all hold the same `kernel` parameter.
TRANSPOSED_CONVS = {
    'plain': functools.partial(nn.ConvTranspose, padding='SAME', use_bias=False),
    'subpixel': SubpixelConvTranspose,
}


def _batch_norm(train, axis_name, **name):
  """BatchNorm as Keras's (momentum 0.9 of the running average, epsilon 1e-5); `axis_name`
  averages the batch statistics over a pmap axis, so a batch split over devices is normalised
  exactly as the whole batch would be on one device."""
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                      axis_name=axis_name, **name)


class HalvesBatchNorm(nn.Module):
  """Batch norm whose statistics are each half's of the batch: the real and the fake images of
  the discriminator's joint batch are normalised apart, as when D is called on each alone (the
  DCGAN paper's implementations; "Construct different mini-batches for real and fake" among
  Chintala et al.'s GAN hacks), while the step still passes them as one batch. Any other batch
  D sees (a penalty's reals, CC-GAN's labelled images) is normalised by halves too, so its size
  must be even. Parameters and running averages (of the halves' mean statistics) are named as
  nn.BatchNorm's.
  """
  use_running_average: bool
  axis_name: Optional[str] = None
  momentum: float = 0.9
  epsilon: float = 1e-5

  @nn.compact
  def __call__(self, x):
    features = x.shape[-1]
    scale = self.param('scale', nn.initializers.ones, (features,))
    bias = self.param('bias', nn.initializers.zeros, (features,))
    running_mean = self.variable('batch_stats', 'mean', jnp.zeros, (features,))
    running_var = self.variable('batch_stats', 'var', jnp.ones, (features,))
    if self.use_running_average:
      return (x - running_mean.value) * lax.rsqrt(running_var.value + self.epsilon) * scale + bias
    halves = x.reshape((2, -1) + x.shape[1:])
    axes = tuple(range(1, halves.ndim - 1))
    mean, mean_square = halves.mean(axes, keepdims=True), (halves ** 2).mean(axes, keepdims=True)
    if self.axis_name and not self.is_initializing():
      mean, mean_square = lax.pmean((mean, mean_square), self.axis_name)
    var = jnp.maximum(mean_square - mean ** 2, 0.0)
    if not self.is_initializing():
      decay = lambda average, value: (self.momentum * average + (1 - self.momentum)
                                      * value.mean(axis=0).reshape(features))
      running_mean.value = decay(running_mean.value, mean)
      running_var.value = decay(running_var.value, var)
    y = (halves - mean) * lax.rsqrt(var + self.epsilon)
    return y.reshape(x.shape) * scale + bias


def kernel_initializer(init_stddev: Optional[float]) -> Callable:
  """Flax's default (LeCun normal) for None, else N(0, init_stddev) as the DCGAN paper's 0.02."""
  if init_stddev is None:
    return nn.initializers.lecun_normal()
  return nn.initializers.normal(init_stddev)


class Generator(nn.Module):
  """[Dense hidden layers ->] Dense -> 7x7 maps -> ConvTranspose stack -> 28x28x1 in [-1, 1].

  `axis_name` makes BatchNorm average its batch statistics over a pmap axis, so a batch split
  over devices is normalised exactly as the whole batch would be on one device.
  `transposed_conv` picks a formulation from TRANSPOSED_CONVS; the parameters are the same.
  `dense_widths`: batch-normalised dense layers before the one to the 7x7 maps (InfoGAN's MNIST
  generator has one of 1024); named apart, so that a network without them keeps its names.
  """
  features: Sequence[int] = (256, 128, 64)
  kernel_size: int = 5
  negative_slope: float = 0.3
  axis_name: Optional[str] = None
  transposed_conv: str = 'plain'
  kernel_init: Callable = nn.initializers.lecun_normal()
  dense_widths: Sequence[int] = ()

  @nn.compact
  def __call__(self, z, *, train):
    norm = lambda **name: _batch_norm(train, self.axis_name, **name)
    act = lambda x: nn.leaky_relu(x, self.negative_slope)
    x = z
    for i, width in enumerate(self.dense_widths):
      x = nn.Dense(width, use_bias=False, kernel_init=self.kernel_init, name=f'HiddenDense_{i}')(x)
      x = act(norm(name=f'HiddenBatchNorm_{i}')(x))
    x = act(norm()(nn.Dense(7 * 7 * self.features[0], use_bias=False,
                            kernel_init=self.kernel_init)(x)))
    x = x.reshape((-1, 7, 7, self.features[0]))
    kernel = (self.kernel_size, self.kernel_size)
    conv_transpose = TRANSPOSED_CONVS[self.transposed_conv]
    out_features = list(self.features[1:]) + [1]
    for i, feat in enumerate(out_features):
      stride = 2 if i >= len(out_features) - 2 else 1
      # Named as nn.ConvTranspose names itself, so every formulation has one parameter tree.
      x = conv_transpose(feat, kernel, (stride, stride), kernel_init=self.kernel_init,
                         name=f'ConvTranspose_{i}')(x)
      if i < len(out_features) - 1:
        x = act(norm()(x))
    return jnp.tanh(x)


class Discriminator(nn.Module):
  """Stride-2 convolutions [-> dense hidden layers] -> one logit (or `outputs` logits) per image.

  `conv_input_grad` picks from CONV_INPUT_GRADS how the convolutions compute the gradient with
  respect to their input; the function and the parameters are the same. With `batch_norm`, every
  convolution after the first and every dense hidden layer is batch-normalised, as in the DCGAN
  paper and InfoGAN's networks (not the input layer); the step passes real and fake images
  through D as one batch, in D's update and in G's, so they are normalised jointly
  (`discriminator_normalises_batch`). With `layer_norm` instead, the same layers are
  layer-normalised, each image alone.
  """
  features: Sequence[int] = (64, 128)
  kernel_size: int = 5
  negative_slope: float = 0.3
  dropout_rate: float = 0.3
  outputs: int = 1  # 1: one real/fake logit per image, (B,); more: (B, outputs) logits
  conv_input_grad: str = 'plain'
  spectral_norm: bool = False  # every Conv and the Dense spectrally normalised (`spectral.layer`)
  batch_norm: bool = False
  axis_name: Optional[str] = None
  kernel_init: Callable = nn.initializers.lecun_normal()
  # With batch norm: each half of the batch (the step's reals, then its fakes) normalised by
  # its own statistics (HalvesBatchNorm) instead of the whole batch's.
  batch_norm_halves: bool = False
  # Dense hidden layers after the convolutions (InfoGAN's MNIST discriminator has one of 1024),
  # batch-normalised with `batch_norm`; named apart, so that the output layer keeps its name.
  dense_widths: Sequence[int] = ()
  # A hidden layer of this width of the outputs after the first alone, batch-normalised with
  # `batch_norm` (InfoGAN's reference code gives Q one of 128 on D's last features); 0: none.
  head_width: int = 0
  # Layer norm where batch norm would be, each image normalised over its own features (of a
  # convolution: its whole map): a D for per-sample gradient penalties, whose gradient at one
  # image must not depend on the rest of its batch (Gulrajani et al. 2017). Not with batch_norm.
  layer_norm: bool = False

  @property
  def normalises(self) -> bool:
    """Whether the layers after the first are normalised, by batch or by layer norm."""
    return self.batch_norm or self.layer_norm

  @nn.compact
  def __call__(self, x, *, train):
    layer = functools.partial(spectral.layer, train=train, spectral_norm=self.spectral_norm)

    def activate(x):
      return activate_and_drop(self, x, train)

    def normalise(x, place, suffix=''):
      return normalise_as(self, x, train, place, suffix)

    x = convolutions(self, x, train)
    x = x.reshape((x.shape[0], -1))
    for i, width in enumerate(self.dense_widths):
      x = layer(nn.Dense(width, use_bias=not self.batch_norm, kernel_init=self.kernel_init,
                         name=f'HiddenDense_{i}'), x)
      x = activate(normalise(x, 'Hidden', f'_{i}') if self.normalises else x)
    if not self.head_width:
      x = layer(nn.Dense(self.outputs, kernel_init=self.kernel_init), x)
      return x[:, 0] if self.outputs == 1 else x
    first = layer(nn.Dense(1, kernel_init=self.kernel_init), x)
    head = layer(nn.Dense(self.head_width, use_bias=not self.batch_norm,
                          kernel_init=self.kernel_init, name='HeadDense'), x)
    head = activate(normalise(head, 'Head') if self.normalises else head)
    rest = layer(nn.Dense(self.outputs - 1, kernel_init=self.kernel_init, name='HeadOutput'), head)
    return jnp.concatenate([first, rest], axis=-1)


def normalise_as(d, x, train, place, suffix=''):
  """x normalised as D `d` normalises, by the layer named PLACE{Batch,Layer}Norm{SUFFIX} of the
  module whose compact call this is."""
  if d.layer_norm:
    return nn.LayerNorm(reduction_axes=tuple(range(1, x.ndim)),
                        name=f'{place}LayerNorm{suffix}')(x)
  name = f'{place}BatchNorm{suffix}'
  if d.batch_norm_halves:
    return HalvesBatchNorm(not train, d.axis_name, name=name)(x)
  return _batch_norm(train, d.axis_name, name=name)(x)


def activate_and_drop(d, x, train):
  """D's LeakyReLU, then its dropout."""
  x = nn.leaky_relu(x, d.negative_slope)
  return nn.Dropout(d.dropout_rate, deterministic=not train)(x)


def convolutions(d, x, train):
  """D `d`'s stride-2 convolutions on images x, each after the first normalised as `d` asks,
  their parameters in the module whose compact call this is (Discriminator, and BiGAN's joint
  discriminator, which appends z to their features). No bias before a BatchNorm: its gradient is
  zero but for rounding, which Adam would scale up to full-size steps (a layer norm of a whole
  map keeps a bias per channel)."""
  layer = functools.partial(spectral.layer, train=train, spectral_norm=d.spectral_norm)
  for i, feat in enumerate(d.features):
    normalised = d.normalises and i > 0
    x = layer(nn.Conv(feat, (d.kernel_size, d.kernel_size), strides=(2, 2), padding='SAME',
                      use_bias=not (normalised and d.batch_norm), kernel_init=d.kernel_init,
                      conv_general_dilated=CONV_INPUT_GRADS[d.conv_input_grad]), x)
    x = activate_and_drop(d, normalise_as(d, x, train, '', f'_{i - 1}') if normalised else x,
                          train)
  return x


def discriminator_normalises_batch(config) -> bool:
  return config.dcgan.discriminator_batch_norm


def without_statistics(discriminator):
  """D's network without the layers that keep 'batch_stats' (spectral normalisation's power
  iteration, batch norm): what a classifier or encoder trained on plain parameters builds."""
  return discriminator.clone(spectral_norm=False, batch_norm=False)


# Fields that choose how the networks compute, not what: a run may resume under another choice.
FORMULATION_FIELDS = ('transposed_conv', 'conv_input_grad')


def check_section(section):
  """Refuses an unknown formulation, a bad initial scale, slope or dense widths in config.dcgan."""
  for field in ('discriminator_batch_norm', 'discriminator_batch_norm_halves',
                'discriminator_layer_norm'):
    if not isinstance(section[field], bool):
      raise UsageError(f'dcgan.{field} must be true or false, got {section[field]!r}')
  if section['discriminator_batch_norm'] and section['discriminator_layer_norm']:
    raise UsageError('dcgan.discriminator_layer_norm=True needs '
                     'dcgan.discriminator_batch_norm=False: D normalises one way or the other')
  if section['init_stddev'] is not None and not (is_number(section['init_stddev'])
                                                 and section['init_stddev'] > 0):
    raise UsageError(f'dcgan.init_stddev must be None (Flax\'s LeCun normal) or > 0, got '
                     f'{section["init_stddev"]!r}')
  for field in ('generator_dense_widths', 'discriminator_dense_widths'):
    widths = section[field]
    if not (isinstance(widths, (tuple, list))
            and all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths)):
      raise UsageError(f'dcgan.{field} must be a tuple of positive integers (or () for none), '
                       f'got {widths!r}')
  head = section['discriminator_head_width']
  if not (isinstance(head, int) and not isinstance(head, bool) and head >= 0):
    raise UsageError(f'dcgan.discriminator_head_width must be an integer >= 0 (0 for none), got '
                     f'{head!r}')
  slope = section['generator_negative_slope']
  if slope is not None and not (is_number(slope) and 0 <= slope < 1):
    raise UsageError(f'dcgan.generator_negative_slope must be None (D\'s negative_slope) or in '
                     f'[0, 1), got {slope!r}')
  check_choice('dcgan.transposed_conv', section['transposed_conv'], TRANSPOSED_CONVS)
  check_choice('dcgan.conv_input_grad', section['conv_input_grad'], CONV_INPUT_GRADS)


def build(config, axis_name=None, discriminator_outputs=1):
  c = config.dcgan
  kernel_init = kernel_initializer(c.init_stddev)
  generator_slope = (c.negative_slope if c.generator_negative_slope is None
                     else c.generator_negative_slope)
  if c.discriminator_head_width and discriminator_outputs < 2:
    raise UsageError(f'dcgan.discriminator_head_width={c.discriminator_head_width} needs a '
                     f'discriminator with outputs beside its first (InfoGAN\'s Q); '
                     f'{config.model}\'s has {discriminator_outputs}')
  return (Generator(c.generator_features, c.kernel_size, generator_slope, axis_name,
                    c.transposed_conv, kernel_init, tuple(c.generator_dense_widths)),
          Discriminator(c.discriminator_features, c.kernel_size, c.negative_slope, c.dropout_rate,
                        discriminator_outputs, c.conv_input_grad, config.spectral_norm,
                        c.discriminator_batch_norm, axis_name, kernel_init,
                        c.discriminator_batch_norm_halves, tuple(c.discriminator_dense_widths),
                        c.discriminator_head_width, c.discriminator_layer_norm))
