"""Progress of every long job: a tqdm bar when stderr is a terminal, and otherwise an INFO log
line at least every LOG_EVERY_SECONDS while the job advances (cluster logs, CI, nohup)."""
import sys
import time

from absl import logging
from tqdm import tqdm

LOG_EVERY_SECONDS = 30


class Progress:
  """`update(done, **postfix)` after each unit of work; `close()` logs the total time."""

  def __init__(self, description, total, unit='step', initial=0):
    self.description, self.total, self.unit = description, total, unit
    self.units = unit + ('es' if unit.endswith(('s', 'sh', 'ch', 'x')) else 's')  # batches
    self.terminal = sys.stderr.isatty()
    self.bar = tqdm(total=total, initial=initial, desc=description, unit=unit,
                    disable=not self.terminal, leave=False)
    self.started = self.last_line = time.perf_counter()
    self.initial = self.done = initial

  def update(self, done, **postfix):
    self.bar.update(done - self.done)
    self.done = done
    if postfix:
      self.bar.set_postfix(postfix, refresh=False)
    now = time.perf_counter()
    if not self.terminal and now - self.last_line >= LOG_EVERY_SECONDS:
      self.last_line = now
      rate = (done - self.initial) / (now - self.started)
      extra = ''.join(f', {k} {v}' for k, v in postfix.items())
      logging.info('%s: %d of %d %s (%.1f %s per second)%s', self.description, done,
                   self.total, self.units, rate, self.units, extra)

  def close(self):
    self.bar.close()
    logging.info('%s: %d of %d %s in %.0f s of wall-clock time', self.description, self.done,
                 self.total, self.units, time.perf_counter() - self.started)
