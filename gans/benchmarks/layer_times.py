"""Per-layer times of the TensorFlow tutorial DCGAN's convolutions, ours against PyTorch's, here.

  python -m gans.benchmarks.layer_times [--repeats=7]    # needs torch beside the requirements

Why: the whole-step ratio of `python -m gans.benchmarks.step` says how far the DCGAN is from the
peer, not where. For each convolution of the tutorial's DCGAN at its training batch (generator 256;
discriminator 512, real and fake together) this times, on random inputs and cotangents, the
forward pass and the forward pass with both gradients (input and kernel), as the default config
computes them (`gans.core.models.dcgan`) and as torch does (the layers of the PyTorch peer,
benchmarks/torch_peer.py), and prints a markdown table of medians in milliseconds.
"""
import os
import statistics
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

from gans.configs import default
from gans.core.errors import UsageError
from gans.core.models import dcgan
from gans.run import startup
from gans.tools import cli

FLAGS = flags.FLAGS

# (name, batch, input height, in, out, stride, transposed); PyTorch pads 2 (+1 output padding
# for stride 2), which is 'SAME' for these 5x5 kernels.
LAYERS = [
    ('G ConvTranspose 256->128, 7x7, stride 1', 256, 7, 256, 128, 1, True),
    ('G ConvTranspose 128->64, 7->14, stride 2', 256, 7, 128, 64, 2, True),
    ('G ConvTranspose 64->1, 14->28, stride 2', 256, 14, 64, 1, 2, True),
    ('D Conv 1->64, 28->14, stride 2', 512, 28, 1, 64, 2, False),
    ('D Conv 64->128, 14->7, stride 2', 512, 14, 64, 128, 2, False),
]


def median_ms(fn, repeats):
  fn(), fn()  # compile / warm up
  times = []
  for _ in range(repeats):
    started = time.perf_counter()
    fn()
    times.append((time.perf_counter() - started) * 1000)
  return statistics.median(times)


def ours(batch, size, cin, cout, stride, transposed, repeats):
  c = default.get_config().dcgan
  kernel, strides = (5, 5), (stride, stride)
  if transposed:
    module = dcgan.TRANSPOSED_CONVS[c.transposed_conv](cout, kernel, strides)
  else:
    module = nn.Conv(cout, kernel, strides, padding='SAME', use_bias=False,
                     conv_general_dilated=dcgan.CONV_INPUT_GRADS[c.conv_input_grad])
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(batch, size, size, cin)), jnp.float32)
  params = module.init(jax.random.key(0), x)
  out_shape = jax.eval_shape(module.apply, params, x).shape
  cotangent = jnp.asarray(rng.normal(size=out_shape), jnp.float32)
  forward = jax.jit(module.apply)

  @jax.jit
  def forward_and_grads(params, x):
    out, vjp = jax.vjp(module.apply, params, x)
    return out, vjp(cotangent)

  return (median_ms(lambda: jax.block_until_ready(forward(params, x)), repeats),
          median_ms(lambda: jax.block_until_ready(forward_and_grads(params, x)), repeats))


def peer(torch, batch, size, cin, cout, stride, transposed, repeats):
  if transposed:
    layer = torch.nn.ConvTranspose2d(cin, cout, 5, stride, 2, output_padding=stride - 1,
                                     bias=False)
  else:
    layer = torch.nn.Conv2d(cin, cout, 5, stride, 2, bias=False)
  x = torch.randn(batch, cin, size, size, requires_grad=True)
  cotangent = torch.randn_like(layer(x))

  def forward():
    with torch.no_grad():
      layer(x)

  def forward_and_grads():
    layer(x).backward(cotangent)

  return median_ms(forward, repeats), median_ms(forward_and_grads, repeats)


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  flags.DEFINE_integer('repeats', 7, 'Timed calls per layer and pass; the median is printed.')


def main():
  startup.prepare()
  try:
    import torch  # here: the peer is optional, never a requirement of the package
  except ImportError:
    raise UsageError('layer_times needs PyTorch beside the requirements (pip install torch); '
                     'it is not one of them') from None
  if FLAGS.repeats < 1:
    raise UsageError(f'--repeats must be a positive integer, got {FLAGS.repeats}')
  repeats = FLAGS.repeats
  torch.set_num_threads(os.cpu_count())
  print(f'JAX {jax.__version__} on {jax.devices()[0].device_kind}, torch {torch.__version__} '
        f'({torch.get_num_threads()} threads), XLA_FLAGS={os.environ.get("XLA_FLAGS", "")!r}, '
        f'median of {repeats}, ms\n')
  print('| layer (batch) | ours forward | torch forward | ours forward + both gradients | '
        'torch forward + both gradients | ours / torch (with gradients) |')
  print('|---|---|---|---|---|---|')
  totals = np.zeros(4)
  for name, *shape in LAYERS:
    times = ours(*shape, repeats) + peer(torch, *shape, repeats)
    times = np.array(times)[[0, 2, 1, 3]]
    totals += times
    print(f'| {name} ({shape[0]}) | ' + ' | '.join(f'{t:.1f}' for t in times)
          + f' | {times[2] / times[3]:.2f} |', flush=True)
  print('| all five | ' + ' | '.join(f'{t:.1f}' for t in totals)
        + f' | {totals[2] / totals[3]:.2f} |')


if __name__ == '__main__':
  cli.run_main(main, define_flags)
