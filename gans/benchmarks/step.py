"""Times the train step: `python -m gans.benchmarks.step --model=dcgan --batch_size=256
--steps=20 [--steps_per_call=K] [--devices=D] [--torch_peer=PATH] [--config.FIELD=VALUE ...]`.

`--model`, `--batch_size` and `--steps_per_call` set the config's fields of their names; left
unset, the config's values stand (`--config=gans/configs/dcgan_fast.py` times its batch of 64).

Times what train.py runs per step: the model's real state, placed as training places it
(`gans.core.parallel.Placement`), and the compiled K-step call (`Placement.compile`, K =
`steps_per_call`) that gathers each batch on the device from a training split kept there, with
the epoch's order and the run's keys as train.py derives them. The split is TRAIN_IMAGES random
images (MNIST's train size; labels cycle through the classes), so no dataset is read. After
compiling and one warm-up call (both untimed) it times `steps` steps, in calls of K fused steps,
waiting for each call's results. Prints one JSON line: median/min/max milliseconds per step over
the calls, images per second at the median, the device kind, JAX version, XLA_FLAGS (with
`xla_cpu.choose_kernels`' choice), peak host RSS, peak device memory (None where the device
keeps no statistics, as on CPU), XLA's FLOP count of one step of the compiled program (which
counts any multiplications by zero that a formulation leaves in, so compare formulations by
time) and, on devices with a known peak, the model FLOP utilisation that count gives.

`--devices D` with D > 1 pmaps the step over D devices, as train.py with --config.parallel=pmap
does, or with `--config.parallel=sharded` jits it over a mesh of them with the batch sharded
(train.py's choice for 'auto' on several devices); D = 1 jits it on one. On a CPU host JAX is
told to simulate D devices (`jax_num_cpu_devices`), which share the host's cores: a table over D
there measures what splitting and the collectives cost, not a speed-up. Elsewhere D is 1 or
every local device.

When `torch` is importable, the PyTorch peer of the baseline architectures
(benchmarks/torch_peer.py, or `--torch_peer=PATH`, default $GANS_TORCH_PEER) then runs the same
model (mlp or dcgan), batch and number of steps in a subprocess, and its ms per step and the
ratio ours / peer join the line; otherwise those fields are null. torch is not a dependency of
this project.
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
from absl import flags
from ml_collections import config_flags

from gans.core import data, families
from gans.core import parallel
from gans.core import state as state_lib
from gans.core.errors import UsageError
from gans.run import config as config_lib
from gans.run import runs, startup
from gans.tools import cli

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEER_MODELS = ('mlp', 'dcgan')  # the baseline architectures the PyTorch peer also builds
TORCH_PEER = os.path.join(REPO, 'benchmarks', 'torch_peer.py')
# Models trained by steps (PPCA is fitted in closed form: no step to time).
STEP_MODELS = [name for name, family in families.FAMILIES.items() if not family.closed_form]
TRAIN_IMAGES = 60_000  # the training split kept on the device, as large as MNIST's
# Dense peak FLOP/s of float32 matmuls and convolutions at JAX's default precision (TF32 tensor
# cores on these GPUs), by `device_kind`.
PEAK_FLOPS = {
    'NVIDIA H100 80GB HBM3': 494.7e12,
    'NVIDIA H200': 494.7e12,
}

FLAGS = flags.FLAGS
# Flags that set the config's field of their name; one left unset keeps the config's value.
CONFIG_FLAGS = ('model', 'batch_size', 'steps_per_call')


def parallel_mode(config, num_devices) -> str:
  """jit on one device; on several, pmap unless the config asks for 'sharded'."""
  if num_devices == 1:
    return 'jit'
  if config.parallel == 'jit':
    raise UsageError(f'config.parallel=jit runs on one device, not {num_devices}; use --devices=1 '
                     f'or --config.parallel=pmap or sharded')
  return 'sharded' if config.parallel == 'sharded' else 'pmap'


def _check(config, num_steps, num_devices):
  """Refuses bad settings before anything is built or compiled; returns the parallel mode."""
  if families.build(config).closed_form:  # first: a closed-form config resolves no batch size
    raise UsageError(f'a {config.model} is fitted in closed form and has no train step to time; '
                     f'allowed: {", ".join(STEP_MODELS)}')
  steps_per_call = config.steps_per_call
  if num_steps % steps_per_call:
    raise UsageError(f'steps ({num_steps}) must be a multiple of steps_per_call ({steps_per_call})')
  if not 1 <= num_devices <= jax.local_device_count():
    raise UsageError(f'devices must be between 1 and the {jax.local_device_count()} local '
                     f'devices, got {num_devices}')
  if config.batch_size % num_devices:
    raise UsageError(f'batch_size {config.batch_size} is not divisible by {num_devices} devices')
  mode = parallel_mode(config, num_devices)
  if mode != 'jit' and num_devices != jax.device_count():
    raise UsageError(f'a {mode} step runs over every device, as in train.py: --devices must be 1 '
                     f'or {jax.device_count()}, got {num_devices}')
  config_lib.check_batch_split(config, mode)
  return mode


def _resident_inputs(config, family, placement):
  """(state, training data, epoch order, step keys) placed as train.py places them."""
  keys = runs.root_keys(config.seed)
  state = state_lib.create_state(config, family, family.networks(), keys['init'])
  rng = np.random.default_rng(config.seed)
  images = rng.integers(0, 256, (TRAIN_IMAGES,) + data.IMAGE_SHAPE, np.uint8)
  labels = (np.arange(TRAIN_IMAGES) % family.num_classes).astype(np.int32)
  train_data = placement.put(family.train_data(images, labels, keys['labelled']))
  order = placement.put_order(data.epoch_order(keys['epochs'], 0, TRAIN_IMAGES,
                                               config.batch_size))
  return placement.put(state), train_data, order, runs.step_keys(keys)


def time_train_step(config, num_steps: int, num_devices: int) -> dict:
  """Milliseconds per step and what the compiled step costs, for a resolved config."""
  mode = _check(config, num_steps, num_devices)
  steps_per_call = config.steps_per_call
  family = families.build(config)
  placement = parallel.Placement(mode)
  state, train_data, order, step_keys = _resident_inputs(config, family, placement)
  devices = jax.local_devices()[:num_devices]

  started = time.perf_counter()
  step = placement.compile(config, family, steps_per_call).lower(
      state, train_data, order, step_keys).compile()
  compile_seconds = time.perf_counter() - started
  # One device's program of steps_per_call steps; pmap runs it on every device.
  cost = step.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops = (cost or {}).get('flops')
  state = jax.block_until_ready(step(state, train_data, order, step_keys))[0]  # warm-up
  seconds = []
  for _ in range(num_steps // steps_per_call):
    started = time.perf_counter()
    state = jax.block_until_ready(step(state, train_data, order, step_keys))[0]
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
  if families.backbone(config) == 'dcgan':
    result['transposed_conv'] = config.dcgan.transposed_conv
    result['conv_input_grad'] = config.dcgan.conv_input_grad
  peak = PEAK_FLOPS.get(devices[0].device_kind)
  if peak and flops:
    result['mfu'] = round(result['flops_per_step'] / (median / 1000) / (peak * num_devices), 4)
  return result


def run_torch_peer(path, model, batch_size, num_steps) -> dict:
  """The peer's JSON line (its `ms_per_step` is a median, like ours); its errors pass through."""
  out = subprocess.run([sys.executable, path, '--model', model, '--batch',
                        str(batch_size), '--steps', str(num_steps)],
                       stdout=subprocess.PIPE, text=True, check=True)
  return json.loads(out.stdout.strip().splitlines()[-1])


def define_flags():
  """The command line's flags; defined by `__main__` only, so importing this module adds none."""
  config_flags.DEFINE_config_file(
      'config', os.path.join(REPO, 'gans/configs/default.py'),
      'ml_collections config file; override fields with --config.FIELD=VALUE.')
  flags.DEFINE_enum('model', None, STEP_MODELS, 'Model family (config.model); default the '
                    'config\'s.')
  flags.DEFINE_integer('batch_size', None, 'Global batch size (config.batch_size); default the '
                       'config\'s, else the model\'s baseline value.', lower_bound=1)
  flags.DEFINE_integer('steps', 20, 'Steps timed, after compilation and one warm-up call.',
                       lower_bound=1)
  flags.DEFINE_integer('steps_per_call', None, 'Steps fused into one call '
                       '(config.steps_per_call); default the config\'s.', lower_bound=1)
  flags.DEFINE_integer('devices', 1, 'Devices to pmap the step over (to shard it over with '
                       '--config.parallel=sharded); 1 jits it.', lower_bound=1)
  flags.DEFINE_string('torch_peer', os.environ.get('GANS_TORCH_PEER', TORCH_PEER),
                      'Path of the PyTorch peer script, run for --model=mlp or dcgan when torch '
                      'is importable; default $GANS_TORCH_PEER, else benchmarks/torch_peer.py.')


def main():
  jax.config.update('jax_num_cpu_devices', FLAGS.devices)  # before any JAX work
  startup.prepare()
  config = FLAGS.config
  for field in CONFIG_FLAGS:
    if FLAGS[field].value is not None:
      config[field] = FLAGS[field].value
  peer_path = FLAGS.torch_peer if config.model in PEER_MODELS else None
  if peer_path and not os.path.isfile(peer_path):
    raise UsageError(f'--torch_peer (or $GANS_TORCH_PEER) {peer_path!r} is not a file')
  result = time_train_step(config_lib.resolve(config), FLAGS.steps, FLAGS.devices)
  result.update(torch_ms_per_step=None, torch_version=None, ours_over_torch=None)
  if peer_path and importlib.util.find_spec('torch'):
    peer = run_torch_peer(peer_path, result['model'], result['batch_size'], FLAGS.steps)
    result.update(torch_ms_per_step=peer['ms_per_step'], torch_version=peer['torch'],
                  ours_over_torch=round(result['ms_per_step'] / peer['ms_per_step'], 3))
  print(json.dumps(result))


if __name__ == '__main__':
  cli.run_main(main, define_flags)
