"""Stopping a run cleanly on SIGTERM or Ctrl-C, on one host or several."""
import signal
import threading

import jax
from jax.experimental import multihost_utils


class StopSignals:
  """SIGTERM (a cluster's preemption) and SIGINT (Ctrl-C) ask the loop to stop after the call in
  flight: it writes a checkpoint at that step, flushes the metrics and raises Interrupted. A second
  SIGINT interrupts at once. With several processes, SIGTERM is JAX's preemption notice
  (`jax.distributed`) and every process stops at the same step through
  `multihost_utils.reached_preemption_sync_point`."""

  def __init__(self):
    self.received, self.previous = None, {}

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():  # handlers only live there
      signals = [signal.SIGINT] + ([signal.SIGTERM] if jax.process_count() == 1 else [])
      for signum in signals:
        self.previous[signum] = signal.signal(signum, self._handle)
    return self

  def _handle(self, signum, frame):
    if self.received == signal.SIGINT and signum == signal.SIGINT:
      raise KeyboardInterrupt
    self.received = signum

  def should_stop(self, step) -> bool:
    if jax.process_count() > 1 and multihost_utils.reached_preemption_sync_point(step):
      self.received = self.received or signal.SIGTERM
    return self.received is not None

  def __exit__(self, *exc):
    for signum, handler in self.previous.items():
      signal.signal(signum, handler)
