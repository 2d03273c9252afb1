"""`train(config, workdir)`: the training loop around the shared step, with exact resume.

Everything a run needs to continue bit for bit is its checkpoint (state and step) and its seed:
the keys are split from the seed and batches are a pure function of (keys, step). The loop's
call boundaries (K fused steps, epoch ends, checkpoint steps) are functions of the step too, so
a resumed run issues the same calls as an uninterrupted one. The training split lives on the
device and each call gathers its batches there; metrics stay on the device until a log step,
so the host only dispatches between log steps. The loop itself is short: a call, then the
periodic actions of `gans.training.actions`; `gans.training.calls` says where calls end.
"""
import contextlib
import os

import jax
import numpy as np
from absl import logging

from gans.core import data, families
from gans.core import parallel
from gans.core import state as state_lib
# Interrupted and NonFiniteError are what train() raises on a stop signal and a non-finite step.
from gans.core.errors import Interrupted, NonFiniteError, StorageError, UsageError  # noqa: F401
from gans.evaluation import scoring
from gans.run import checkpoints, datasets, pictures, profiling, runs, signals, writers
from gans.run import config as config_lib
from gans.training import actions, fit
from gans.training import calls as calls_lib


def _check_labels(config, family, labels):
  """A label model needs labelled images of every class of its dataset."""
  missing = np.setdiff1d(np.arange(family.num_classes), labels)
  if missing.size:
    raise UsageError(f'{config.model} needs labelled images of all {family.num_classes} classes '
                     f'of {config.dataset}, but its train split has none of class(es) '
                     f'{missing[:10].tolist()}')


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


def _train(config, family, workdir, mode, images, labels, is_writer, monitor) -> dict:
  """Sets the run up (resumed where its newest checkpoint is), then trains it in calls of fused
  steps with the periodic actions between them."""
  keys, networks = runs.root_keys(config.seed), family.networks()
  placement = parallel.Placement(mode)
  spe = len(images) // config.batch_size
  total_steps = config.num_steps or config.num_epochs * spe
  with contextlib.ExitStack() as on_exit:  # closes what the run opened, also on a stop or error
    checkpointer = checkpoints.Checkpointer(workdir)
    on_exit.callback(checkpointer.close)
    logging.info('%s on %s: %d images, %d steps per epoch (last %d images of each epoch dropped), '
                 '%d steps in total, %s over %d device(s)', config.model, config.dataset,
                 len(images), spe, len(images) % config.batch_size, total_steps, mode,
                 placement.num_shards)
    state, step, log = _resume(config, family, networks, keys, checkpointer, workdir, is_writer,
                               spe)
    if is_writer:
      on_exit.callback(actions.close_pictures, log, workdir)
    metrics = actions.MetricsInFlight(placement, log, spe, total_steps)
    loop = actions.Loop(placement, metrics, log, actions.TrainingClock(), spe, total_steps)
    profile = profiling.StepTrace(config_lib.profile_steps(config), workdir)
    on_exit.callback(profile.stop)
    calls = _fused_calls(config, family, placement, keys, len(images), loop, profile)
    state = placement.put(state)
    train_data = placement.put(family.train_data(images, labels, keys['labelled']))
    with signals.StopSignals() as stop:
      periodic = _periodic_actions(config, family, networks, images, workdir, is_writer, monitor,
                                   loop, checkpointer, profile, stop, step, on_exit)
      step = _main_loop(calls, loop, periodic, profile, state, train_data, runs.step_keys(keys),
                        step)
  return _summary(loop.epoch_seconds, step, spe, calls.compile_seconds)


def _resume(config, family, networks, keys, checkpointer, workdir, is_writer, steps_per_epoch):
  """(state, step, metrics log) of the newest intact checkpoint, or of a new run: the log keeps
  its rows up to that step, and TensorBoard's events are rebuilt from them."""
  state = state_lib.create_state(config, family, networks, keys['init'])
  restored, meta = runs.restore_latest(checkpointer, checkpoints.host_tree(state), is_writer)
  step = 0
  if restored is not None:
    state, step = restored, meta['step']
    # Epochs count from 1 here as in every other line (the metadata's 'epoch' counts from 0).
    logging.info('Resuming from step %d: epoch %d, after %d of its %d steps, in %s', step,
                 step // steps_per_epoch + 1, step % steps_per_epoch, steps_per_epoch, workdir)
  os.makedirs(os.path.join(workdir, 'samples'), exist_ok=True)
  log = writers.MetricsLog(os.path.join(workdir, 'metrics.jsonl'), config.log_every_steps, step,
                           is_writer, window=meta['log_window'] if meta else ())
  if is_writer:
    log.events = writers.EventsWriter(os.path.join(workdir, 'tensorboard'),
                                      config.to_json_best_effort(indent=1), log.rows,
                                      writers.grid_files(workdir, step))
  return state, step, log


def _fused_calls(config, family, placement, keys, num_images, loop, profile):
  """The run's calls: ended at epoch ends, checkpoint steps and the profiled range's ends."""
  make_order = lambda epoch: placement.put_order(
      data.epoch_order(keys['epochs'], epoch, num_images, config.batch_size))
  return calls_lib.FusedCalls(
      'train step', lambda count: placement.compile(config, family, count), make_order,
      config.steps_per_call, loop.steps_per_epoch, loop.total_steps,
      every=(config.checkpoint_every_steps,), at=profile.steps or ())


def _periodic_actions(config, family, networks, images, workdir, is_writer, monitor, loop,
                      checkpointer, profile, stop, step, on_exit) -> list:
  """The actions after each call, in the order they run: the trace's end first (it holds the
  steps alone), the metrics before what reads them, the stop check last (after the checkpoint
  and the epoch's end it may stop at)."""
  sampler = state_lib.make_sampler(networks.generator)
  progress = actions.ReportProgress(loop.metrics, loop.steps_per_epoch, loop.total_steps, step)
  on_exit.callback(progress.close)
  checkpoint = actions.Checkpoint(checkpointer, config, loop, step)
  periodic = [profile.after, actions.LogMetrics(loop.metrics, config.log_every_steps, step),
              progress]
  if monitor:
    periodic.append(actions.Evaluate(monitor, family, sampler, loop, config.eval_every_steps,
                                     step))
  periodic += [checkpoint, actions.EpochEnd(loop, step)]
  if is_writer:
    grid = pictures.Grid(family, runs.grid_noise(config), data.to_float(images[:8]))
    periodic.append(actions.SamplePictures(grid, sampler, workdir, loop, step))
  return periodic + [actions.StopOnSignal(stop, checkpoint)]


def _main_loop(calls, loop, periodic, profile, state, train_data, step_keys, step) -> int:
  """Dispatches the calls of fused steps from `step` to the run's end, each followed by the
  periodic actions at the step it reached; returns that step. The first program and epoch order
  are made before the clock starts."""
  if step < loop.total_steps:
    calls.program(calls.count(step), state, train_data, calls.order_at(step), step_keys)
  loop.clock.restart()
  while step < loop.total_steps:
    count, order = calls.count(step), calls.order_at(step)
    program = calls.program(count, state, train_data, order, step_keys, paused=loop.clock.paused)
    profile.before(step)
    state, metrics = program(state, train_data, order, step_keys)
    loop.metrics.add(step, metrics)
    step += count
    for action in periodic:
      action(step, state)
  return step


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
