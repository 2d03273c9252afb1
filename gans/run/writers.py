"""What a run logs: metrics.jsonl (the mean of every `log_every_steps` steps, a line per epoch with
its seconds, the monitor's rows; kept in memory too for the curves) and TensorBoard events.

The events are a view of metrics.jsonl and the sample grids, rebuilt from them whenever a run
starts, so a resumed run's events hold every step once and in order, as an uninterrupted run's.
They are written with tensorboardX, which needs only protobuf (TensorFlow's own writer, as used
through `clu.metric_writers`, would also need the `tensorboard` package and a TensorFlow import
of several seconds in every run).
"""
import glob
import json
import os
import re
import shutil

import numpy as np
from PIL import Image


def _step_of(line):
  """The step of a metrics.jsonl line; None for a blank or torn one (a kill mid-append)."""
  try:
    return json.loads(line)['step']
  except (ValueError, KeyError, TypeError):
    return None


class MetricsLog:
  """Appends rows to `path` (when `write`: one writer per run) and keeps them in `rows`.

  On resume the lines past the checkpoint resumed from are dropped (atomically: a kill leaves
  the old or the new file, whole), so a resumed run's log equals an uninterrupted one's.
  """

  def __init__(self, path, every, resume_step, write, window=()):
    """`window`: the per-step metrics of steps after the last logged one, saved with a checkpoint
    taken between log steps (on preemption), so the next logged mean is the uninterrupted one."""
    self.path, self.every, self.write = path, every, write
    self.window, self.rows = list(window), []
    self.events = None  # an EventsWriter the rows also go to
    if write and os.path.exists(path):
      with open(path) as f:
        lines = [line for line in f if _step_of(line) is not None and _step_of(line) <= resume_step]
      with open(path + '.tmp', 'w') as f:
        f.writelines(lines)
      os.replace(path + '.tmp', path)
      self.rows = [json.loads(line) for line in lines]

  def _append(self, row):
    self.rows.append(row)
    if self.events:
      self.events.add_row(row)
    if self.write:
      with open(self.path, 'a') as f:
        f.write(json.dumps(row) + '\n')

  def add_steps(self, first_step, metrics, steps_per_epoch, final_step):
    """`metrics` holds numpy arrays of per-step values for steps first_step+1 .. first_step+K."""
    for i in range(len(metrics['d_loss'])):
      done = first_step + i + 1
      self.window.append({k: float(v[i]) for k, v in metrics.items()})
      if done % self.every == 0 or done == final_step:
        row = {k: float(np.mean([w[k] for w in self.window])) for k in self.window[0]}
        self.add_row(done, steps_per_epoch, row)
        self.window = []

  def add_row(self, step, steps_per_epoch, row):
    self._append({'step': step, 'epoch': step / steps_per_epoch, **row})

  def add_epoch(self, epoch, step, seconds, steps_timed, steps_per_epoch):
    self._append({'step': step, 'epoch_end': epoch, 'seconds': seconds, 'steps_timed': steps_timed,
                  'seconds_per_epoch': seconds / steps_timed * steps_per_epoch})

  def add_fit(self, row):
    """A closed-form fit's one row (PPCA): it replaces the log."""
    self.rows = []
    if self.write and os.path.exists(self.path):
      os.remove(self.path)
    self._append(row)


def _tags(row) -> dict:
  """TensorBoard tag -> value of a metrics.jsonl row, by what kind of row it is."""
  if 'epoch_end' in row:
    return {'time/seconds_per_epoch': row['seconds_per_epoch']}
  kind = ('train' if 'd_loss' in row else 'eval' if 'eval_fid' in row else 'fit')
  return {f'{kind}/{name.removeprefix("eval_")}': value for name, value in row.items()
          if name not in ('step', 'epoch') and isinstance(value, (int, float))}


def grid_files(workdir, up_to_step):
  """(step, path) of the run's sample grids up to a step, in order."""
  found = []
  for path in glob.glob(os.path.join(workdir, 'samples', 'step_*.png')):
    step = int(re.search(r'step_(\d+)\.png$', path).group(1))
    if step <= up_to_step:
      found.append((step, path))
  return sorted(found)


class EventsWriter:
  """TensorBoard events in `folder`: every metrics row as scalars, each sample grid as an image,
  the config as text. Starts by replaying the rows and grids the run already has."""

  def __init__(self, folder, config_json, rows, grids):
    from tensorboardX import SummaryWriter  # only where a run writes
    shutil.rmtree(folder, ignore_errors=True)  # a view, rebuilt from metrics.jsonl and the grids
    self.writer = SummaryWriter(folder, flush_secs=30)
    self.writer.add_text('config', '```\n' + config_json + '\n```', 0)
    for row in rows:
      self.add_row(row)
    for step, path in grids:
      self.add_grid(step, path)

  def add_row(self, row):
    for tag, value in _tags(row).items():
      self.writer.add_scalar(tag, value, row['step'])

  def add_grid(self, step, path):
    self.writer.add_image('samples', np.asarray(Image.open(path).convert('L')), step,
                          dataformats='HW')

  def close(self):
    self.writer.close()
