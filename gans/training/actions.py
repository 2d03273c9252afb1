"""What the training loop does between its calls, as periodic actions.

After each call of fused steps the loop hands the step it reached and the state to each action in
turn, as clu's `periodic_actions` and big_vision's `itstime` do; an action runs when its interval
is due. A call of K steps can jump past a multiple of an interval: the action then runs at the
call's end, at the same step in a resumed run as in an uninterrupted one, since the call
boundaries are functions of the step (`gans.training.calls`). The checks are a few integer
comparisons, so the host stays free to dispatch the next call while the device trains.
"""
import contextlib
import dataclasses
import math
import signal
import time

import jax
import numpy as np
from absl import logging

from gans.core import state as state_lib
from gans.core.errors import Interrupted, NonFiniteError
from gans.run import pictures, runs
from gans.run import progress as progress_lib
from gans.training.calls import next_multiple


@dataclasses.dataclass
class Loop:
  """What the actions of a run share: where its state lives, its metrics in flight and log, its
  clock, and its length."""
  placement: object  # gans.core.parallel.Placement
  metrics: 'MetricsInFlight'
  log: object  # gans.run.writers.MetricsLog
  clock: 'TrainingClock'
  steps_per_epoch: int
  total_steps: int
  # (seconds, steps) of each epoch this process trained in: the run's speed in its summary.
  epoch_seconds: list = dataclasses.field(default_factory=list)


class TrainingClock:
  """Seconds of training alone: wall-clock time less what ran inside `paused()` (compilation,
  the Fréchet checks, pictures), so that epoch times compare across runs that do more or less
  of those."""

  def __init__(self):
    self.restart()

  def restart(self):
    self.started, self.excluded = time.perf_counter(), 0.0

  @contextlib.contextmanager
  def paused(self):
    started = time.perf_counter()
    try:
      yield
    finally:
      self.excluded += time.perf_counter() - started

  def lap(self) -> float:
    """The training seconds since the last lap (or the start); starts the next lap."""
    seconds = time.perf_counter() - self.started - self.excluded
    self.restart()
    return seconds


def _first_non_finite(metrics):
  """(index of the first step with a non-finite metric, the metric to name), naming a loss of
  that step first (the totals d_loss, g_loss before their terms); None when all are finite."""
  bad = {name: ~np.isfinite(values) for name, values in metrics.items()}
  steps = [np.flatnonzero(b)[0] for b in bad.values() if b.any()]
  if not steps:
    return None
  i = min(steps)
  return i, min((name for name in metrics if bad[name][i]),
                key=lambda name: (name not in ('d_loss', 'g_loss'), 'loss' not in name, name))


class MetricsInFlight:
  """The per-step metrics of the dispatched calls, left on the device until `flush` fetches them
  together: a fetch after every call would make the host wait for the device each time.

  They are read with np.asarray, array by array: jax.device_get's asynchronous copies cost
  several times more host time on a CPU (the 400 arrays of 50 one-step calls of the MLP: ~8 ms
  against ~1.5 ms, 16 against 3 per cent of its 1 ms steps).
  """

  def __init__(self, placement, log, steps_per_epoch, total_steps):
    self.placement, self.log = placement, log
    self.steps_per_epoch, self.total_steps = steps_per_epoch, total_steps
    self.pending = []  # (first step, metrics on the device) of the calls not yet logged
    self.last = None  # the newest logged step's metrics

  def add(self, step, metrics):
    self.pending.append((step, metrics))

  def flush(self):
    """Logs the pending steps; stops at the first non-finite one, after logging those before."""
    if not self.pending:
      return
    first = self.pending[0][0]
    calls = [jax.tree.map(np.asarray, self.placement.one_copy(m)) for _, m in self.pending]
    self.pending.clear()
    metrics = {name: np.concatenate([call[name] for call in calls]) for name in calls[0]}
    bad = _first_non_finite(metrics)
    finite = metrics if bad is None else {k: v[:bad[0]] for k, v in metrics.items()}
    self.log.add_steps(first, finite, self.steps_per_epoch, self.total_steps)
    if bad is not None:
      i, name = bad
      raise NonFiniteError(f'non-finite {name} ({metrics[name][i]}) at step {first + i + 1}; '
                           f'training stopped, the checkpoints before it are intact')
    self.last = {name: values[-1] for name, values in metrics.items()}


class PeriodicAction:
  """clu's PeriodicAction for calls of fused steps: called after every call with the step it
  reached, it runs `_apply(step, state)` once that step reaches or passes the next multiple of
  `every_steps` (0: never) or `last_step`. Subclasses say what runs in `_apply`."""

  def __init__(self, every_steps, step, last_step=None):
    self.every_steps, self.last_step = every_steps, last_step
    self.due = self._next_due(step)

  def _next_due(self, step):
    ends = [next_multiple(step, self.every_steps)] if self.every_steps else []
    ends += [self.last_step] if self.last_step and self.last_step > step else []
    return min(ends, default=math.inf)

  def __call__(self, step, state):
    if step >= self.due:
      self.due = self._next_due(step)
      self._apply(step, state)

  def _apply(self, step, state):
    raise NotImplementedError


class LogMetrics(PeriodicAction):
  """Every log_every_steps, the mean of the steps since the last log row to metrics.jsonl and
  TensorBoard: the one point where the host waits for the device between the other actions."""

  def __init__(self, metrics, every_steps, step):
    super().__init__(every_steps, step)
    self.metrics = metrics

  def _apply(self, step, state):
    self.metrics.flush()


class ReportProgress:
  """The epoch's progress bar, or its log lines without a terminal (`gans.run.progress`), with
  the newest logged losses. It is updated when new metrics arrive, at the epoch's end or
  MIN_SECONDS after the last update, not after every call: an update costs ~7 µs of Python
  (tqdm's postfix), a per cent of a small model's millisecond step."""
  MIN_SECONDS = 0.2

  def __init__(self, metrics, steps_per_epoch, total_steps, step):
    self.metrics, self.steps_per_epoch, self.total_steps = metrics, steps_per_epoch, total_steps
    self.shown, self.updated = None, time.perf_counter()
    self.bar, self.epoch_start = self._open(step) if step < total_steps else (None, step)

  def _open(self, step):
    epoch = step // self.steps_per_epoch
    start = epoch * self.steps_per_epoch
    end = min(start + self.steps_per_epoch, self.total_steps)
    return progress_lib.Progress(f'epoch {epoch + 1}', end - start, initial=step - start), start

  def __call__(self, step, state):
    ends_epoch = step % self.steps_per_epoch == 0 or step == self.total_steps
    now = time.perf_counter()
    if not ends_epoch and self.metrics.last is self.shown and now - self.updated < self.MIN_SECONDS:
      return
    if ends_epoch:
      self.metrics.flush()  # the epoch's last losses
    last = self.shown = self.metrics.last
    self.updated = now
    self.bar.update(step - self.epoch_start, **{k: f'{last[k]:.3f}' for k in ('d_loss', 'g_loss')
                                                 if last and k in last})
    if ends_epoch:
      self.bar.close()
      self.bar = None
      if step < self.total_steps:
        self.bar, self.epoch_start = self._open(step)

  def close(self):
    """Closes the bar of an epoch left part way (a stop signal, an error)."""
    if self.bar:
      self.bar.close()


class Evaluate(PeriodicAction):
  """Every eval_every_steps, the Fréchet distance and classifier score of G and, where the run
  keeps one, of its EMA (`eval_fid_ema`, `eval_classifier_score_ema`: the EMA is often the better
  generator, and its time to quality is what a user of it wants): a curve of quality against
  training time. Its seconds are left out of the epoch times."""

  def __init__(self, monitor, family, sampler, loop, every_steps, step):
    super().__init__(every_steps, step)
    self.monitor, self.family, self.sampler, self.loop = monitor, family, sampler, loop

  def _apply(self, step, state):
    self.loop.metrics.flush()  # the rows of metrics.jsonl stay in step order
    with self.loop.clock.paused():
      state = self.loop.placement.one_copy(state)
      score = lambda use_ema: self.monitor(self.family, self.sampler,
                                           state_lib.generator_variables(state, use_ema=use_ema))
      row, ema_text = score(False), ''
      if state.ema:
        ema = score(True)
        row.update({f'{k}_ema': ema[k] for k in ('eval_fid', 'eval_classifier_score')})
        ema_text = f'; its EMA {ema["eval_fid"]:.3f}, {ema["eval_classifier_score"]:.3f}'
      self.loop.log.add_row(step, self.loop.steps_per_epoch, row)
    logging.info('step %d: Fréchet distance %.3f, classifier score %.3f%s (%d samples)', step,
                 row['eval_fid'], row['eval_classifier_score'], ema_text, row['eval_num_samples'])


class Checkpoint(PeriodicAction):
  """Every checkpoint_every_steps and at the run's last step, the state and the step: all a
  resume needs. With them, the metrics of the steps since the last log row (`log.window`), so
  that a run resumed from a checkpoint between log steps logs the means an uninterrupted one
  does."""

  def __init__(self, checkpointer, config, loop, step):
    super().__init__(config.checkpoint_every_steps, step, loop.total_steps)
    self.checkpointer, self.config, self.loop = checkpointer, config, loop
    self.saved_step = step

  def _apply(self, step, state):
    self.save(step, state)

  def save(self, step, state):
    """Also called where a stop signal came: a step whose checkpoint is written is left as is."""
    if step == self.saved_step:
      return
    self.loop.metrics.flush()
    runs.save(self.checkpointer, self.loop.placement.host(state), self.config, step,
              self.loop.steps_per_epoch, self.loop.log.window)
    self.saved_step = step


class EpochEnd(PeriodicAction):
  """At every epoch's end (and the run's), the epoch's training seconds to metrics.jsonl and a
  log line with its last losses: the run's speed, to compare with other runs and devices."""

  def __init__(self, loop, step):
    super().__init__(loop.steps_per_epoch, step, loop.total_steps)
    self.loop, self.first_step = loop, step

  def _apply(self, step, state):
    self.loop.metrics.flush()  # waits for the device: the clock holds the epoch's computation
    seconds, steps_timed = self.loop.clock.lap(), step - self.first_step
    spe, self.first_step = self.loop.steps_per_epoch, step
    self.loop.epoch_seconds.append((seconds, steps_timed))
    epoch = (step - 1) // spe + 1
    self.loop.log.add_epoch(epoch, step, seconds, steps_timed, spe)
    last = self.loop.metrics.last
    logging.info('epoch %d (step %d): %.2f s of train steps for %d steps (the Fréchet checks '
                 'and compilation left out) = %.2f s per epoch; d_loss %.4f, g_loss %.4f, D(x) '
                 '%.3f, D(G(z)) %.3f', epoch, step, seconds, steps_timed,
                 seconds / steps_timed * spe, last['d_loss'], last['g_loss'], last['d_real'],
                 last['d_fake'])


class SamplePictures(PeriodicAction):
  """At every epoch's end (and the run's), the fixed-noise sample grid (samples/, TensorBoard)
  and the loss curves: what a user watches while a run trains. Left out of the epoch times."""

  def __init__(self, grid, sampler, workdir, loop, step):
    super().__init__(loop.steps_per_epoch, step, loop.total_steps)
    self.grid, self.sampler, self.workdir, self.loop = grid, sampler, workdir, loop

  def _apply(self, step, state):
    with self.loop.clock.paused():
      variables = state_lib.generator_variables(self.loop.placement.one_copy(state))
      path = self.grid.save(lambda inputs: self.sampler(variables, inputs), self.workdir, step,
                            self.loop.steps_per_epoch)
      self.loop.log.events.add_grid(step, path)
      pictures.save_run_curves(self.loop.log.rows, self.workdir)


def close_pictures(log, workdir):
  """At the run's end, or where it stopped: TensorBoard's events closed and the GIF of the
  epochs' grids, the run's progress at a glance."""
  log.events.close()
  pictures.save_progress_gif(workdir)


class StopOnSignal:
  """SIGTERM or Ctrl-C (`gans.run.signals`) stops the run after the call in flight, with a
  checkpoint at the step it reached: a preempted run resumes there, bit for bit."""

  def __init__(self, stop, checkpoint):
    self.stop, self.checkpoint = stop, checkpoint

  def __call__(self, step, state):
    if self.stop.should_stop(step):
      self.checkpoint.save(step, state)
      raise Interrupted(f'stopped by {signal.Signals(self.stop.received).name} at step {step}; '
                        f'its checkpoint is written, run the same command to resume',
                        self.stop.received)
