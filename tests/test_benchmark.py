"""The train-step benchmark prints one JSON line with its fields, and reads the peer's line."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, tiny_config
from gans.core.errors import UsageError
from gans.benchmarks import step as benchmark

FIELDS = {'model', 'batch_size', 'steps', 'steps_per_call', 'devices', 'parallel', 'ms_per_step',
          'ms_per_step_min', 'ms_per_step_max', 'images_per_s', 'compile_s', 'device_kind',
          'platform', 'jax', 'peak_host_rss_mib', 'peak_device_bytes', 'flops_per_step',
          'torch_ms_per_step', 'torch_version', 'ours_over_torch'}
# Stands in for the PyTorch peer: echoes its arguments in the peer's JSON format.
FAKE_PEER = """import json, sys
print('warming up')
print(json.dumps({'peer': 'torch', 'torch': 'fake', 'ms_per_step': 2.0, 'argv': sys.argv[1:]}))
"""


def write_fake_peer(tmp_path):
  path = tmp_path / 'peer.py'
  path.write_text(FAKE_PEER)
  return str(path)


def test_benchmark_prints_one_json_line_with_its_fields(tmp_path):
  # Two simulated devices and two fused steps per call: the pmap path, timed over two calls.
  out = subprocess.run(
      [sys.executable, '-m', 'gans.benchmarks.step', '--model=mlp', '--batch_size=8', '--steps=4',
       '--steps_per_call=2', '--devices=2', '--config.latent_dim=8',
       '--config.mlp.generator_widths=(32,)', '--config.mlp.discriminator_widths=(32,)',
       f'--torch_peer={write_fake_peer(tmp_path)}'],
      cwd=REPO, capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr
  lines = out.stdout.splitlines()
  assert len(lines) == 1
  result = json.loads(lines[0])
  assert FIELDS <= set(result)
  assert (result['model'], result['steps'], result['steps_per_call'], result['devices'],
          result['parallel']) == ('mlp', 4, 2, 2, 'pmap')
  assert 0 < result['ms_per_step_min'] <= result['ms_per_step'] <= result['ms_per_step_max']
  assert result['flops_per_step'] > 0 and result['peak_host_rss_mib'] > 0
  assert result['platform'] == 'cpu' and result['peak_device_bytes'] is None
  assert 'mfu' not in result  # no known peak for a CPU
  if importlib.util.find_spec('torch'):
    assert result['torch_ms_per_step'] == 2.0 and result['torch_version'] == 'fake'
    assert result['ours_over_torch'] == round(result['ms_per_step'] / 2.0, 3)
  else:
    assert result['torch_ms_per_step'] is result['ours_over_torch'] is None


def test_the_peer_runs_our_model_batch_and_steps_and_its_last_line_is_read(tmp_path):
  peer = benchmark.run_torch_peer(write_fake_peer(tmp_path), 'mlp', 64, 5)
  assert peer['ms_per_step'] == 2.0
  assert peer['argv'] == ['--model', 'mlp', '--batch', '64', '--steps', '5']


@pytest.mark.parametrize('steps, devices, message', [
    (3, 1, 'steps (3) must be a multiple of steps_per_call (2)'),
    (4, 9, 'devices must be between 1 and the 8 local devices, got 9'),
    (4, 3, 'batch_size 16 is not divisible by 3 devices'),
])
def test_bad_benchmark_settings_are_refused_before_compiling(steps, devices, message):
  with pytest.raises(UsageError, match=message.replace('(', r'\(').replace(')', r'\)')):
    benchmark.time_train_step(tiny_config('mlp', steps_per_call=2), steps, devices)


@pytest.mark.parametrize('model, g_params, d_params', [('mlp', 1_486_352, 1_460_225),
                                                        ('dcgan', 2_305_472, 212_865)])
def test_the_shipped_torch_peer_builds_our_networks_and_times_its_step(model, g_params, d_params):
  # The counts are test_models.py's of our networks; torch is optional, so this runs where it is.
  torch = pytest.importorskip('torch')
  sys.path.insert(0, os.path.join(REPO, 'benchmarks'))
  try:
    import torch_peer
  finally:
    sys.path.pop(0)
  generator, discriminator, _ = torch_peer.NETWORKS[model]()
  count = lambda network: sum(p.numel() for p in network.parameters())
  assert (count(generator), count(discriminator)) == (g_params, d_params)
  assert generator(torch.zeros(2, 100)).reshape(2, -1).shape == (2, 784)
  out = subprocess.run([sys.executable, benchmark.TORCH_PEER, f'--model={model}', '--batch=4',
                        '--steps=2', '--warmup=1'], capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr
  line = json.loads(out.stdout.splitlines()[-1])
  assert line['model'] == model and 0 < line['ms_min'] <= line['ms_per_step'] <= line['ms_max']
