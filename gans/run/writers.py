"""metrics.jsonl: the mean of every `log_every_steps` steps, a line per epoch with its seconds,
and the monitor's rows; one JSON object per line, kept in memory too for the curves."""
import json
import os

import numpy as np


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

  def __init__(self, path, every, resume_step, write):
    self.path, self.every, self.write = path, every, write
    self.window, self.rows = [], []
    if write and os.path.exists(path):
      with open(path) as f:
        lines = [line for line in f if _step_of(line) is not None and _step_of(line) <= resume_step]
      with open(path + '.tmp', 'w') as f:
        f.writelines(lines)
      os.replace(path + '.tmp', path)
      self.rows = [json.loads(line) for line in lines]

  def _append(self, row):
    self.rows.append(row)
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
