"""`train(config, workdir)`: the training loop around the shared step, with exact resume.

Everything a run needs to continue bit for bit is its checkpoint (state and step) and its seed:
the keys are split from the seed and batches are a pure function of (keys, step). The loop's
call boundaries (K fused steps, epoch ends, checkpoint steps) are functions of the step too, so
a resumed run issues the same calls as an uninterrupted one. The training split lives on the
device and each call gathers its batches there; metrics stay on the device until a log step,
so the host only dispatches between log steps.
"""
import contextlib
import os
import signal
import time

import jax
import numpy as np
from absl import logging

from gans.core import data, families
from gans.core import parallel
from gans.core import state as state_lib
from gans.core.errors import Interrupted, NonFiniteError, StorageError, UsageError
from gans.evaluation import scoring
from gans.run import checkpoints, datasets, pictures, profiling, runs, signals, writers
from gans.run import progress as progress_lib
from gans.run import config as config_lib
from gans.training import fit


def _check_labels(config, family, labels):
  """A label model needs labelled images of every class of its dataset."""
  missing = np.setdiff1d(np.arange(family.num_classes), labels)
  if missing.size:
    raise UsageError(f'{config.model} needs labelled images of all {family.num_classes} classes '
                     f'of {config.dataset}, but its train split has none of class(es) '
                     f'{missing[:10].tolist()}')


def _check_finite(metrics, first_step):
  """Stops at the first step with a non-finite metric, naming a loss of that step first (the
  totals d_loss, g_loss before their terms)."""
  bad = {name: ~np.isfinite(values) for name, values in metrics.items()}
  steps = [np.flatnonzero(b)[0] for b in bad.values() if b.any()]
  if not steps:
    return
  i = min(steps)
  name = min((name for name in metrics if bad[name][i]),
             key=lambda name: (name not in ('d_loss', 'g_loss'), 'loss' not in name, name))
  raise NonFiniteError(f'non-finite {name} ({metrics[name][i]}) at step {first_step + i + 1}; '
                       f'training stopped, the checkpoints before it are intact')


def _next_multiple(step, every):
  return (step // every + 1) * every


def train(config, workdir: str) -> dict:
  """Trains (or resumes, or fits) the configured model in `workdir`; returns a timing summary."""
  config = config_lib.resolve(config)
  family = families.build(config)
  mode = config_lib.parallel_mode(config)
  if not family.closed_form:
    config_lib.check_batch_split(config, mode)
  checkpoints.check_workdir_writable(workdir)
  meta = checkpoints.read_latest_meta(workdir)
  if meta is not None:
    runs.check_compatible(config, meta, workdir)
  images, labels = datasets.load_split(config.dataset, 'train', config.data_dir)
  if family.label_model:
    _check_labels(config, family, labels)
  if not family.closed_form and config.batch_size > len(images):
    raise UsageError(f'batch size {config.batch_size} exceeds the {len(images)} training images')
  monitor = None  # made before the workdir is touched: a missing evaluator is refused at once
  if config.eval_every_steps:
    monitor = scoring.TrainingMonitor(config.dataset, config.data_dir, config.classifier_dir,
                                      runs.monitor_noise(config))
  is_writer = jax.process_index() == 0
  # One writer per workdir; other processes of a multi-host run write only through orbax.
  with checkpoints.WorkdirLock(workdir) if is_writer else contextlib.nullcontext():
    try:
      if family.closed_form:
        return fit.fit(config, family, workdir, images, labels, meta, is_writer)
      return _train(config, family, workdir, mode, images, labels, is_writer, monitor)
    except OSError as e:  # metrics, pictures; checkpoint failures come as StorageError
      intact = checkpoints.read_steps(workdir)
      raise StorageError(f'could not write to workdir {workdir!r}: {e}; the checkpoints of steps '
                         f'{intact or "none"} are intact') from e


class _Steps:
  """The compiled K-step calls of a run and its metrics in flight: dispatches calls, and fetches
  their metrics to the host only when `flush` is called (at log steps), in one transfer."""

  def __init__(self, config, family, placement, log, steps_per_epoch, total_steps):
    self.config, self.family, self.placement, self.log = config, family, placement, log
    self.steps_per_epoch, self.total_steps = steps_per_epoch, total_steps
    self.executables, self.compile_seconds = {}, 0.0
    self.pending = []  # (first step, metrics on the device) of calls not yet logged
    self.last = None  # the newest logged step's metrics

  def call(self, state, train_data, order, keys, step, count):
    """Runs steps [step, step + count); returns (state, seconds spent compiling)."""
    compile_seconds = 0.0
    if count not in self.executables:  # compiled ahead, so the epoch time excludes compilation
      started = time.perf_counter()
      self.executables[count] = self.placement.compile(self.config, self.family, count).lower(
          state, train_data, order, keys).compile()
      compile_seconds = time.perf_counter() - started
      self.compile_seconds += compile_seconds
    state, metrics = self.executables[count](state, train_data, order, keys)
    self.pending.append((step, metrics))
    return state, compile_seconds

  def flush(self):
    """Fetches the pending metrics, checks they are finite and logs them."""
    firsts = [first for first, _ in self.pending]
    for first, metrics in zip(firsts, self.placement.host([m for _, m in self.pending])):
      _check_finite(metrics, first)
      self.log.add_steps(first, metrics, self.steps_per_epoch, self.total_steps)
      self.last = {k: v[-1] for k, v in metrics.items()}
    self.pending.clear()


def _train(config, family, workdir, mode, images, labels, is_writer, monitor) -> dict:
  keys = runs.root_keys(config.seed)
  networks = family.networks()
  placement = parallel.Placement(mode)
  state = state_lib.create_state(config, family, networks, keys['init'])
  checkpointer = checkpoints.Checkpointer(workdir)
  restored, meta = runs.restore_latest(checkpointer, checkpoints.host_tree(state), is_writer)
  step = 0
  spe = len(images) // config.batch_size
  if restored is not None:
    state, step = restored, meta['step']
    # Epochs count from 1 here as in every other line (the metadata's 'epoch' counts from 0).
    logging.info('Resuming from step %d: epoch %d, after %d of its %d steps, in %s', step,
                 step // spe + 1, step % spe, spe, workdir)
  total_steps = config.num_steps or config.num_epochs * spe
  logging.info('%s on %s: %d images, %d steps per epoch (last %d images of each epoch dropped), '
               '%d steps in total, %s over %d device(s)', config.model, config.dataset, len(images),
               spe, len(images) % config.batch_size, total_steps, mode, placement.num_shards)
  os.makedirs(os.path.join(workdir, 'samples'), exist_ok=True)
  log = writers.MetricsLog(os.path.join(workdir, 'metrics.jsonl'), config.log_every_steps, step,
                           is_writer, window=meta['log_window'] if meta else ())
  if is_writer:
    log.events = writers.EventsWriter(os.path.join(workdir, 'tensorboard'),
                                      config.to_json_best_effort(indent=1), log.rows,
                                      writers.grid_files(workdir, step))
  sampler = state_lib.make_sampler(networks.generator)
  grid = pictures.Grid(family, runs.grid_noise(config), data.to_float(images[:8]))
  profile = profiling.StepTrace(config_lib.profile_steps(config), workdir)
  state = placement.put(state)
  train_data = placement.put(family.train_data(images, labels, keys['labelled']))
  step_keys = runs.step_keys(keys)
  steps = _Steps(config, family, placement, log, spe, total_steps)
  crossed = lambda every, count: step // every > (step - count) // every
  epoch_seconds = []  # (seconds, steps) of each epoch this process trained in
  try:
    with signals.StopSignals() as stop:
      while step < total_steps:
        epoch = step // spe
        epoch_end = min((epoch + 1) * spe, total_steps)
        progress = progress_lib.Progress(f'epoch {epoch + 1}', epoch_end - epoch * spe,
                                         initial=step - epoch * spe)
        started, excluded, steps_timed = time.perf_counter(), 0.0, 0
        order = placement.put_order(data.epoch_order(keys['epochs'], epoch, len(images),
                                                     config.batch_size))
        while step < epoch_end:
          count = min(config.steps_per_call, epoch_end - step, profile.steps_to_boundary(step),
                      _next_multiple(step, config.checkpoint_every_steps) - step)
          profile.before(step)
          state, compile_seconds = steps.call(state, train_data, order, step_keys, step, count)
          step, steps_timed = step + count, steps_timed + count
          excluded += compile_seconds
          profile.after(step, state)
          checkpoint_due = step % config.checkpoint_every_steps == 0 or step == total_steps
          stopping = stop.should_stop(step)
          if (crossed(config.log_every_steps, count) or step == epoch_end or checkpoint_due
              or stopping):
            steps.flush()
          last = steps.last or {}  # the newest logged metrics: none before the first log step
          progress.update(step - epoch * spe,
                          **{k: f'{last[k]:.3f}' for k in ('d_loss', 'g_loss') if k in last})
          if monitor and crossed(config.eval_every_steps, count):
            excluded += _evaluate(monitor, family, sampler, placement.one_copy(state), log, step,
                                  spe)
          if checkpoint_due or stopping:
            runs.save(checkpointer, placement.host(state), config, step, spe, log.window)
          if stopping:
            progress.close()
            raise Interrupted(f'stopped by {signal.Signals(stop.received).name} at step {step}; '
                              f'its checkpoint is written, run the same command to resume',
                              stop.received)
        progress.close()
        seconds = time.perf_counter() - started - excluded  # flush() has waited for the device
        epoch_seconds.append((seconds, steps_timed))
        log.add_epoch(epoch + 1, step, seconds, steps_timed, spe)
        last = steps.last
        logging.info('epoch %d (step %d): %.2f s of train steps for %d steps (the Fréchet checks '
                     'and compilation left out) = %.2f s per epoch; d_loss %.4f, g_loss %.4f, D(x) '
                     '%.3f, D(G(z)) %.3f', epoch + 1, step, seconds, steps_timed,
                     seconds / steps_timed * spe, last['d_loss'], last['g_loss'], last['d_real'],
                     last['d_fake'])
        if is_writer:
          variables = state_lib.generator_variables(placement.one_copy(state))
          path = grid.save(lambda inputs: sampler(variables, inputs), workdir, step, spe)
          log.events.add_grid(step, path)
          pictures.save_run_curves(log.rows, workdir)
  finally:
    profile.stop()
    checkpointer.close()
    if is_writer:
      log.events.close()
      pictures.save_progress_gif(workdir)
  return _summary(epoch_seconds, step, spe, steps.compile_seconds)


def _summary(epoch_seconds, step, steps_per_epoch, compile_seconds) -> dict:
  total_seconds = sum(s for s, _ in epoch_seconds)
  total_timed = sum(n for _, n in epoch_seconds)
  summary = {'steps': step, 'steps_per_epoch': steps_per_epoch, 'compile_seconds': compile_seconds,
             'seconds_per_epoch': total_seconds / total_timed * steps_per_epoch if total_timed
                                  else None,
             'seconds_per_step': total_seconds / total_timed if total_timed else None}
  if total_timed:
    logging.info('Done at step %d: %.2f s per epoch on average over %d steps (compilation %.1f s '
                 'excluded) on %s', step, summary['seconds_per_epoch'], total_timed,
                 compile_seconds, jax.devices()[0].device_kind)
  return summary


def _evaluate(monitor, family, sampler, state, log, step, steps_per_epoch) -> float:
  """Logs the monitor's metrics at `step`, of G and, where the run keeps one, of its EMA (as
  `eval_fid_ema`, `eval_classifier_score_ema`: the EMA is often the better generator, and its
  time to quality is what a user of it wants); returns its seconds, which epoch times exclude."""
  started = time.perf_counter()
  row, ema_text = monitor(family, sampler, state_lib.generator_variables(state)), ''
  if state.ema:
    ema = monitor(family, sampler, state_lib.generator_variables(state, use_ema=True))
    row.update({f'{k}_ema': ema[k] for k in ('eval_fid', 'eval_classifier_score')})
    ema_text = f'; its EMA {ema["eval_fid"]:.3f}, {ema["eval_classifier_score"]:.3f}'
  log.add_row(step, steps_per_epoch, row)
  logging.info('step %d: Fréchet distance %.3f, classifier score %.3f%s (%d samples)', step,
               row['eval_fid'], row['eval_classifier_score'], ema_text, row['eval_num_samples'])
  return time.perf_counter() - started
