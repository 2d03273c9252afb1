"""What a researcher expects around the loop: TensorBoard events (read back, exact across a
resume), a clean stop on SIGTERM that resumes bitwise, progress lines without a terminal, and a
profiler trace of chosen steps."""
import glob
import json
import logging
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image, ImageSequence
from tensorboardX.proto import event_pb2

from conftest import REPO, assert_bitwise_equal, final_state, tiny_config, write_mnist_like
from gans.core.errors import UsageError
from gans.run import pictures
from gans.run import progress as progress_lib
from gans.run import signals
from gans.training import loop


def read_events(folder):
  """{'scalars': {tag: [(step, value)]}, 'images': {tag: [step]}, 'texts': [tag]} of every event
  file in `folder`, parsed from the TFRecord framing (length, crc, event proto, crc)."""
  out = {'scalars': {}, 'images': {}, 'texts': []}
  for path in sorted(glob.glob(os.path.join(folder, 'events.out.tfevents.*'))):
    with open(path, 'rb') as f:
      raw = f.read()
    offset = 0
    while offset < len(raw):
      (length,) = struct.unpack('<Q', raw[offset:offset + 8])
      event = event_pb2.Event.FromString(raw[offset + 12:offset + 12 + length])
      offset += 12 + length + 4
      for value in event.summary.value:
        if value.HasField('image'):
          out['images'].setdefault(value.tag, []).append(event.step)
        elif value.metadata.plugin_data.plugin_name == 'text':
          out['texts'].append(value.tag)
        else:
          out['scalars'].setdefault(value.tag, []).append((event.step, value.simple_value))
  return out


def test_events_hold_every_scalar_grid_and_the_config(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', data_dir, num_steps=8), workdir)  # 64 images / 16: 4 per epoch
  events = read_events(os.path.join(workdir, 'tensorboard'))
  assert [step for step, _ in events['scalars']['train/d_loss']] == [2, 4, 6, 8]
  rows = [json.loads(line) for line in open(os.path.join(workdir, 'metrics.jsonl'))]
  logged = [row['d_loss'] for row in rows if 'd_loss' in row]
  np.testing.assert_allclose([v for _, v in events['scalars']['train/d_loss']], logged, rtol=1e-6)
  for tag in ('train/g_loss', 'train/d_real', 'train/d_fake', 'train/g_grad_norm',
              'time/seconds_per_epoch'):
    assert tag in events['scalars'], tag
  assert events['images']['samples'] == [4, 8]  # the grid of every epoch
  assert 'config' in ''.join(events['texts'])


def test_a_resumed_runs_events_equal_an_uninterrupted_runs(tmp_path, data_dir, monkeypatch):
  whole, parts = str(tmp_path / 'whole'), str(tmp_path / 'parts')
  config = tiny_config('mlp', data_dir, num_steps=12, checkpoint_every_steps=2, log_every_steps=1)
  loop.train(config, whole)
  with monkeypatch.context() as patch:  # a stop mid-epoch 2, as SIGTERM would ask for
    def should_stop(self, step):
      self.received = signal.SIGTERM if step == 6 else None
      return step == 6
    patch.setattr(signals.StopSignals, 'should_stop', should_stop)
    with pytest.raises(loop.Interrupted, match='stopped by SIGTERM at step 6'):
      loop.train(config, parts)
  # and a kill after the checkpoint of step 4: steps 5 and 6 logged, but not checkpointed
  for step in (6,):
    shutil.rmtree(os.path.join(parts, 'checkpoints', str(step)))
  loop.train(config, parts)
  a = read_events(os.path.join(whole, 'tensorboard'))
  b = read_events(os.path.join(parts, 'tensorboard'))
  assert a['images'] == b['images'] == {'samples': [4, 8, 12]}
  for tag, values in a['scalars'].items():
    steps = [step for step, _ in b['scalars'][tag]]
    assert steps == sorted(set(steps)) == [step for step, _ in values], tag  # once, in order
    if not tag.startswith('time/'):  # seconds differ; the training curves may not
      np.testing.assert_array_equal([v for _, v in b['scalars'][tag]], [v for _, v in values])


def wait_for(predicate, timeout):
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    if predicate():
      return True
    time.sleep(0.05)
  return False


def test_sigterm_mid_epoch_checkpoints_the_current_step_and_resumes_bitwise(tmp_path):
  data_dir = str(tmp_path / 'data')
  write_mnist_like(os.path.join(data_dir, 'mnist'), num_train=2048)  # 128 steps per epoch
  flags = ['--model=mlp', '--batch_size=16', '--num_steps=256', f'--data_dir={data_dir}',
           '--config.latent_dim=8', '--config.mlp.generator_widths=(32,)',
           '--config.mlp.discriminator_widths=(32,)', '--config.parallel=jit',
           '--config.checkpoint_every_steps=200', '--config.log_every_steps=10']
  command = [sys.executable, os.path.join(REPO, 'train.py')] + flags
  reference = str(tmp_path / 'uninterrupted')  # beside the stopped run, to save wall time
  uninterrupted = subprocess.Popen(command + [f'--workdir={reference}'], stderr=subprocess.DEVNULL)
  workdir = str(tmp_path / 'stopped')
  process = subprocess.Popen(command + [f'--workdir={workdir}'], stderr=subprocess.PIPE, text=True)
  metrics = os.path.join(workdir, 'metrics.jsonl')
  assert wait_for(lambda: os.path.exists(metrics) and os.path.getsize(metrics) > 0, 240)
  process.send_signal(signal.SIGTERM)
  _, stderr = process.communicate(timeout=120)
  assert process.returncode == 128 + signal.SIGTERM
  lines = [line for line in stderr.splitlines() if line.startswith('stopped:')]
  assert len(lines) == 1, stderr[-2000:]
  stopped_at = int(lines[0].split('at step ')[1].split(';')[0])
  assert 0 < stopped_at < 256 and stopped_at % 200  # mid-run, not at a regular checkpoint
  assert final_state(workdir)[0] == stopped_at

  subprocess.run(command + [f'--workdir={workdir}'], check=True, capture_output=True)
  assert uninterrupted.wait(timeout=240) == 0
  step_a, stopped_state = final_state(workdir)
  step_b, reference_state = final_state(reference)
  assert step_a == step_b == 256
  assert_bitwise_equal(stopped_state, reference_state)
  training = lambda w: [json.loads(line) for line in open(os.path.join(w, 'metrics.jsonl'))
                        if 'd_loss' in line]
  assert training(workdir) == training(reference)  # the same logged means too


def test_progress_logs_a_line_without_a_terminal(caplog, monkeypatch, tmp_path, data_dir):
  monkeypatch.setattr(progress_lib, 'LOG_EVERY_SECONDS', 0.0)
  monkeypatch.setattr(sys.stderr, 'isatty', lambda: False)
  with caplog.at_level(logging.INFO):
    loop.train(tiny_config('mlp', data_dir, num_steps=8), str(tmp_path / 'run'))
  lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith('epoch 2: ')]
  assert any('of 4 steps' in line and 'd_loss' in line for line in lines), lines
  caplog.clear()
  with caplog.at_level(logging.INFO):
    batches = progress_lib.Progress('sampling', 3, unit='batch')
    batches.update(3)
    batches.close()
  assert '3 of 3 batches (' in caplog.text and '3 of 3 batches in ' in caplog.text


def test_a_profiled_run_writes_a_trace_of_the_chosen_steps(tmp_path, data_dir):
  workdir = str(tmp_path / 'run')
  loop.train(tiny_config('mlp', data_dir, num_steps=8, profile_steps='2:5'), workdir)
  traces = glob.glob(os.path.join(workdir, 'profile', 'plugins', 'profile', '*', '*.xplane.pb'))
  assert len(traces) == 1 and os.path.getsize(traces[0]) > 0


@pytest.mark.parametrize('value', ['5', '5:5', '7:3', 'a:b', '-1:4'])
def test_bad_profile_steps_are_refused(value):
  with pytest.raises(UsageError, match='profile_steps must be A:B'):
    tiny_config('mlp', profile_steps=value)


def gif_frames(path):
  return [np.asarray(frame.convert('L')) for frame in ImageSequence.Iterator(Image.open(path))]


def test_the_progress_gif_keeps_at_most_25_grids_at_scale_1_with_the_first_and_last(tmp_path):
  rng = np.random.default_rng(0)
  grids = [rng.integers(0, 256, (8, 28, 28), np.uint8) for _ in range(40)]  # 40 epochs
  paths, expected = [], []
  for epoch, images in enumerate(grids, 1):
    paths.append(str(tmp_path / f'step_{epoch:07d}.png'))
    pictures.save_grid(images, paths[-1], title=f'epoch {epoch}', columns=4)  # at scale 3
    pictures.save_grid(images, str(tmp_path / 'one.png'), title=f'epoch {epoch}', scale=1,
                       columns=4)
    expected.append(np.asarray(Image.open(tmp_path / 'one.png')))
  gif = str(tmp_path / 'progress.gif')
  pictures.save_gif(paths, gif)
  frames = gif_frames(gif)
  assert len(frames) == pictures.GIF_FRAMES == 25
  assert Image.open(gif).size == (4 * 30 + 2, 2 * 30 + 2 + pictures.CAPTION_HEIGHT)  # scale 1
  np.testing.assert_array_equal(frames[0], expected[0])  # the grid and caption of epoch 1
  np.testing.assert_array_equal(frames[-1], expected[-1])
  assert all(any(np.array_equal(f, e) for e in expected) for f in frames)  # no blend of two
  budget = os.path.getsize(gif) // 3
  pictures.save_gif(paths, gif, max_bytes=budget)  # a bigger grid: fewer frames, to fit
  frames = gif_frames(gif)
  assert 2 <= len(frames) < 25 and os.path.getsize(gif) <= budget
  np.testing.assert_array_equal(frames[0], expected[0])
  np.testing.assert_array_equal(frames[-1], expected[-1])
