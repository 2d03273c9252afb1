"""Times the train step: `python -m gans.benchmark --model dcgan --batch_size 256 --steps 20
[--steps_per_call K] [--devices D] [--torch_peer PATH] [--config.FIELD=VALUE ...]`.

Builds the model's real state and step (`train_lib.compile_steps`, as training does) and one
batch of random images resident on the device(s). After compiling and one warm-up call (both
untimed) it times `steps` steps, in calls of `steps_per_call` fused steps, waiting for each
call's results. Prints one JSON line: median/min/max milliseconds per step over the calls,
images per second at the median, the device kind, JAX version, XLA_FLAGS (with
`xla_cpu.choose_kernels`' choice), peak host RSS, peak device memory (None where the device
keeps no statistics, as on CPU), XLA's FLOP count of one step of the compiled program (which
counts any multiplications by zero that a formulation leaves in, so compare formulations by
time) and, on devices with a known peak, the model FLOP utilisation that count gives.

`--devices D` pmaps the step over the first D local devices (D = 1 jits it). On a CPU host JAX
is told to simulate D devices (`jax_num_cpu_devices`), which share the host's cores: a table
over D there measures what splitting and the collectives cost, not a speed-up.

When `torch` is importable, the PyTorch peer of the seed architectures
(`../shared/bench/torch_peer.py` beside the repository, or `--torch_peer`) then runs the same
model, batch and number of steps in a subprocess, and its ms per step and the ratio
ours / peer join the line. torch is not a dependency of this project.
"""
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

import jax
import numpy as np
from absl import app, flags
from flax import jax_utils
from ml_collections import config_flags

from gans import data, models, train_lib, trainer, xla_cpu
from gans.errors import UsageError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER_MODELS = {'mlp': 'gan', 'dcgan': 'dcgan'}  # our model names -> the peer's
# Dense peak FLOP/s of float32 matmuls and convolutions at JAX's default precision (TF32 tensor
# cores on these GPUs), by `device_kind`.
PEAK_FLOPS = {
    'NVIDIA H100 80GB HBM3': 494.7e12,
    'NVIDIA H200': 494.7e12,
}

FLAGS = flags.FLAGS


def _resident_batch(config, num_devices):
  """`steps_per_call` batches of random images, laid out as training lays them out, on device."""
  rng = np.random.default_rng(config.seed)
  images = rng.integers(0, 256, (config.batch_size,) + data.IMAGE_SHAPE, np.uint8)
  labels = np.zeros(config.batch_size, np.int32)
  batches = data.Batches(images, labels, config.batch_size, jax.random.key(config.seed),
                         num_devices if num_devices > 1 else None)
  batch = batches.get(0, config.steps_per_call)
  if num_devices == 1:
    return jax.device_put(batch)
  mesh = jax.sharding.Mesh(np.array(jax.local_devices()[:num_devices]), ('devices',))
  return jax.device_put(batch, jax.NamedSharding(mesh, jax.P('devices')))


def time_train_step(config, num_steps: int, num_devices: int) -> dict:
  """Milliseconds per step and what the compiled step costs, for a resolved config."""
  steps_per_call = config.steps_per_call
  if num_steps % steps_per_call:
    raise UsageError(f'steps ({num_steps}) must be a multiple of steps_per_call ({steps_per_call})')
  if not 1 <= num_devices <= jax.local_device_count():
    raise UsageError(f'devices must be between 1 and the {jax.local_device_count()} local '
                     f'devices, got {num_devices}')
  if config.batch_size % num_devices:
    raise UsageError(f'batch_size {config.batch_size} is not divisible by {num_devices} devices')
  mode = 'pmap' if num_devices > 1 else 'jit'
  devices = jax.local_devices()[:num_devices]
  key = jax.random.key(config.seed)
  state = train_lib.create_state(config, *models.build(config), key)
  state = jax_utils.replicate(state, devices) if mode == 'pmap' else jax.device_put(state)
  batch = _resident_batch(config, num_devices)

  started = time.perf_counter()
  step = train_lib.compile_steps(config, mode).lower(state, batch, key).compile()
  compile_seconds = time.perf_counter() - started
  # One device's program of steps_per_call steps; pmap runs it on every device.
  flops = step.cost_analysis().get('flops')
  state = jax.block_until_ready(step(state, batch, key))[0]  # warm-up
  seconds = []
  for _ in range(num_steps // steps_per_call):
    started = time.perf_counter()
    state = jax.block_until_ready(step(state, batch, key))[0]
    seconds.append(time.perf_counter() - started)

  ms = np.array(seconds) * 1000 / steps_per_call
  median = float(np.median(ms))
  memory = [device.memory_stats() for device in devices]
  result = {
      'model': config.model,
      'batch_size': config.batch_size,
      'steps': num_steps,
      'steps_per_call': steps_per_call,
      'devices': num_devices,
      'parallel': mode,
      'ms_per_step': round(median, 3),
      'ms_per_step_min': round(float(ms.min()), 3),
      'ms_per_step_max': round(float(ms.max()), 3),
      'images_per_s': round(config.batch_size * 1000 / median, 1),
      'compile_s': round(compile_seconds, 2),
      'device_kind': devices[0].device_kind,
      'platform': devices[0].platform,
      'jax': jax.__version__,
      'xla_flags': os.environ.get('XLA_FLAGS', ''),
      'peak_host_rss_mib': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
      'peak_device_bytes': (max(stats['peak_bytes_in_use'] for stats in memory)
                            if all(memory) else None),
      'flops_per_step': flops * num_devices / steps_per_call if flops else None,
  }
  if config.model == 'dcgan':
    result['transposed_conv'] = config.dcgan.transposed_conv
    result['conv_input_grad'] = config.dcgan.conv_input_grad
  peak = PEAK_FLOPS.get(devices[0].device_kind)
  if peak and flops:
    result['mfu'] = round(result['flops_per_step'] / (median / 1000) / (peak * num_devices), 4)
  return result


def run_torch_peer(path, model, batch_size, num_steps) -> dict:
  """The peer's JSON line (its `ms_per_step` is a median, like ours); its errors pass through."""
  out = subprocess.run([sys.executable, path, '--model', PEER_MODELS[model], '--batch',
                        str(batch_size), '--steps', str(num_steps)],
                       stdout=subprocess.PIPE, text=True, check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  config_flags.DEFINE_config_file(
      'config', os.path.join(REPO, 'gans/configs/default.py'),
      'ml_collections config file; override fields with --config.FIELD=VALUE.')
  flags.DEFINE_enum('model', 'dcgan', list(models.MODELS), 'Model family (config.model).')
  flags.DEFINE_integer('batch_size', None, 'Global batch size; default the model\'s seed value.',
                       lower_bound=1)
  flags.DEFINE_integer('steps', 20, 'Steps timed, after compilation and one warm-up call.',
                       lower_bound=1)
  flags.DEFINE_integer('steps_per_call', 1, 'Steps fused into one call (config.steps_per_call).',
                       lower_bound=1)
  flags.DEFINE_integer('devices', 1, 'Local devices to pmap the step over; 1 jits it.',
                       lower_bound=1)
  flags.DEFINE_string('torch_peer', os.path.join(REPO, '..', 'shared', 'bench', 'torch_peer.py'),
                      'The PyTorch peer script, run when torch is importable.')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  jax.config.update('jax_num_cpu_devices', FLAGS.devices)  # before any JAX work
  xla_cpu.choose_kernels()
  config = FLAGS.config
  config.model = FLAGS.model
  config.batch_size = FLAGS.batch_size
  config.steps_per_call = FLAGS.steps_per_call
  try:
    result = time_train_step(trainer.resolve_config(config), FLAGS.steps, FLAGS.devices)
  except UsageError as e:
    print(f'error: {e}', file=sys.stderr)
    sys.exit(2)
  result.update(torch_ms_per_step=None, torch_version=None, ours_over_torch=None)
  if importlib.util.find_spec('torch'):
    peer = run_torch_peer(FLAGS.torch_peer, result['model'], result['batch_size'], FLAGS.steps)
    result.update(torch_ms_per_step=peer['ms_per_step'], torch_version=peer['torch'],
                  ours_over_torch=round(result['ms_per_step'] / peer['ms_per_step'], 3))
  print(json.dumps(result))


if __name__ == '__main__':
  define_flags()
  app.run(main)
