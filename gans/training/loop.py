"""`train(config, workdir)`: the training loop around the shared step, with exact resume.

Everything a run needs to continue bit for bit is in its checkpoints: the state, the four PRNG
keys and the step, which fixes the data-pipeline position because batches are a pure function
of (data key, step). The loop's call boundaries (K fused steps, epoch ends, checkpoint steps)
are functions of the step too, so a resumed run issues the same calls as an uninterrupted one.
"""
import contextlib
import json
import os
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging
from flax import jax_utils
from tqdm import tqdm

from gans import checkpoints, conditioning, data, evaluation, losses, models, plots, train_lib
from gans.configs import default
from gans.errors import StorageError, UsageError

# A workdir keeps these for life; anything else (epochs, steps, logging) may change on resume.
IDENTITY_FIELDS = ('model', 'dataset', 'seed', 'batch_size', 'latent_dim', 'loss', 'ema_decay')
# Architecture fields that choose how a network computes, not what: a run may resume under another.
FORMULATION_FIELDS = ('transposed_conv', 'conv_input_grad')
PARALLEL_MODES = ('auto', 'jit', 'pmap')
KEY_NAMES = ('init', 'data', 'train', 'sample')
LABELLED_STREAM = 2 ** 31 - 1  # CC-GAN's labelled subset and batches: fold_in(data key, this)


class NonFiniteError(RuntimeError):
  """Training produced a NaN or Inf; the checkpoints written before it are intact."""


def _choose(name, value, allowed):
  if value not in allowed:
    raise UsageError(f'unknown {name} {value!r}; allowed: {", ".join(allowed)}')


def resolve_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """A validated copy with the model's seed values in the fields left as None."""
  config = ml_collections.ConfigDict(config.to_dict())
  _choose('model', config.model, models.MODELS)
  _choose('dataset', config.dataset, data.DATASETS)
  _choose('loss', config.loss, losses.LOSSES)
  _choose('parallel mode', config.parallel, PARALLEL_MODES)
  _choose('dcgan.transposed_conv', config.dcgan.transposed_conv, models.dcgan.TRANSPOSED_CONVS)
  _choose('dcgan.conv_input_grad', config.dcgan.conv_input_grad, models.dcgan.CONV_INPUT_GRADS)
  _choose('conditional.backbone', config.conditional.backbone, models.UNCONDITIONAL)
  if config.model == 'ppca':
    return _resolve_ppca(config)
  for field, value in models.MODEL_DEFAULTS[models.backbone(config)].items():
    if config[field] is None:
      config[field] = value
  positive = ['num_epochs', 'batch_size', 'latent_dim', 'steps_per_call', 'n_critic',
              'checkpoint_every_steps', 'log_every_steps', 'num_sample_images']
  if config.num_steps is not None:
    positive.append('num_steps')
  for field in positive:
    if not isinstance(config[field], int) or config[field] <= 0:
      raise UsageError(f'{field} must be a positive integer, got {config[field]!r}')
  if not isinstance(config.eval_every_steps, int) or config.eval_every_steps < 0:
    raise UsageError(f'eval_every_steps must be 0 (off) or a positive integer, got '
                     f'{config.eval_every_steps!r}')
  if config.eval_every_steps and config.model == 'ccgan':
    raise UsageError('eval_every_steps is for models that sample from noise; a ccgan in-paints '
                     'given images and is scored by evaluate.py')
  if config.eval_every_steps and not (isinstance(config.eval_num_samples, int)
                                      and config.eval_num_samples >= evaluation.MIN_SAMPLES):
    raise UsageError(f'eval_num_samples must be an integer >= {evaluation.MIN_SAMPLES}, got '
                     f'{config.eval_num_samples!r}')
  if not config.learning_rate > 0:
    raise UsageError(f'learning_rate must be positive, got {config.learning_rate!r}')
  if not 0 <= config.ema_decay < 1:
    raise UsageError(f'ema_decay must be in [0, 1), got {config.ema_decay!r}')
  if config.model in models.conditional.MODELS:
    _check_conditional(config.conditional)
  if config.checkpoint_every_steps % config.log_every_steps:
    raise UsageError(f'checkpoint_every_steps ({config.checkpoint_every_steps}) must be a multiple '
                     f'of log_every_steps ({config.log_every_steps}) so resumed logs are exact')
  return config


def _resolve_ppca(config):
  """PPCA has no steps, batches or optimiser; its noise (z, eps) sets latent_dim."""
  k = config.ppca.components
  if not isinstance(k, int) or not 0 < k < models.ppca.DIM:
    raise UsageError(f'ppca.components must be an integer in [1, {models.ppca.DIM - 1}], got {k!r}')
  if not isinstance(config.ppca.class_conditional, bool):
    raise UsageError(f'ppca.class_conditional must be true or false, got '
                     f'{config.ppca.class_conditional!r}')
  if config.eval_every_steps:
    raise UsageError('eval_every_steps: a ppca is fitted in one closed-form step; score it with '
                     'evaluate.py')
  config.latent_dim = k + models.ppca.DIM
  return config


def _check_conditional(c):
  side = data.IMAGE_SHAPE[0]
  if not isinstance(c.hole_size, int) or not 0 < c.hole_size < side:
    raise UsageError(f'conditional.hole_size must be an integer in [1, {side - 1}], got '
                     f'{c.hole_size!r}')
  for field in ('num_labelled', 'labelled_batch_size'):
    if not isinstance(c[field], int) or c[field] <= 0:
      raise UsageError(f'conditional.{field} must be a positive integer, got {c[field]!r}')
  if not c.class_loss_weight >= 0:
    raise UsageError(f'conditional.class_loss_weight must be >= 0, got {c.class_loss_weight!r}')


def _check_labels(config, labels):
  """A conditional model needs labelled images of every class of its dataset."""
  num_classes = models.conditional.num_classes(config)
  missing = np.setdiff1d(np.arange(num_classes), labels)
  if missing.size:
    raise UsageError(f'{config.model} needs labelled images of all {num_classes} classes of '
                     f'{config.dataset}, but its train split has none of class(es) '
                     f'{missing[:10].tolist()}')


def parallel_mode(config) -> str:
  if config.parallel == 'auto':
    return 'pmap' if jax.local_device_count() > 1 else 'jit'
  return config.parallel


def _check_batch_split(config, mode):
  shards = jax.device_count() if mode == 'pmap' else jax.process_count()
  if config.batch_size % shards:
    raise UsageError(f'batch_size {config.batch_size} is not divisible by the {shards} devices '
                     f'of a {mode} run; use a multiple of {shards}')


def _check_workdir_writable(workdir):
  path = os.path.abspath(workdir)
  if os.path.exists(path) and not os.path.isdir(path):
    raise UsageError(f'workdir {workdir!r} exists and is not a directory')
  existing = path
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    raise UsageError(f'workdir {workdir!r} cannot be created: {existing} is a file')
  if not os.access(existing, os.W_OK | os.X_OK):
    raise UsageError(f'workdir {workdir!r} is not writable ({existing} denies writing)')


def _identity(config) -> dict:
  ident = {field: config[field] for field in IDENTITY_FIELDS}
  ident['architecture'] = {k: v for k, v in config[models.backbone(config)].items()
                           if k not in FORMULATION_FIELDS}
  if config.model in models.conditional.MODELS:
    ident['conditional'] = config.conditional.to_dict()
  return json.loads(json.dumps(ident))  # tuples and lists compare equal after this


def _check_compatible(config, meta, workdir):
  saved = ml_collections.ConfigDict(meta['config'])
  ours, theirs = _identity(config), _identity(saved)
  for field in ours:
    if ours[field] != theirs[field]:
      raise UsageError(f'workdir {workdir!r} holds a run with {field}={theirs[field]!r}, not '
                       f'{ours[field]!r}; use another --workdir or the same {field}')


def config_from_meta(meta) -> ml_collections.ConfigDict:
  """The run's config as saved in a checkpoint (JSON lists back to tuples for the modules).

  Fields added to the config after the run was saved take their defaults.
  """
  tuples = lambda d: {k: tuples(v) if isinstance(v, dict) else tuple(v) if isinstance(v, list)
                      else v for k, v in d.items()}
  config = default.get_config()
  config.update(tuples(meta['config']))
  return config


def _next_multiple(step, every):
  return (step // every + 1) * every


def _step_of(line):
  """The step of a metrics.jsonl line; None for a blank or torn one (a kill mid-append)."""
  try:
    return json.loads(line)['step']
  except (ValueError, KeyError, TypeError):
    return None


class MetricsLog:
  """metrics.jsonl: the mean of every `every` steps, plus one line per epoch with its seconds."""

  def __init__(self, path, every, resume_step, write):
    self.path, self.every, self.write = path, every, write
    self.window = []
    if write and os.path.exists(path):  # drop lines past the checkpoint we resume from
      with open(path) as f:
        rows = [line for line in f if _step_of(line) is not None and _step_of(line) <= resume_step]
      with open(path + '.tmp', 'w') as f:
        f.writelines(rows)
      os.replace(path + '.tmp', path)  # a kill now leaves the old or the new file, whole

  def _append(self, row):
    if self.write:
      with open(self.path, 'a') as f:
        f.write(json.dumps(row) + '\n')

  def add_steps(self, first_step, metrics, steps_per_epoch, final_step):
    """`metrics` holds arrays of per-step values for steps first_step+1 .. first_step+K."""
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


def _check_finite(metrics, first_step):
  for name in sorted(metrics, key=lambda name: ('loss' not in name, name)):  # losses first
    values = metrics[name]
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
      raise NonFiniteError(f'non-finite {name} ({values[bad[0]]}) at step {first_step + bad[0] + 1}; '
                           f'training stopped, the checkpoints before it are intact')


def root_keys(seed) -> dict:
  """The run's four keys, split once from the root key of `seed`."""
  return dict(zip(KEY_NAMES, jax.random.split(jax.random.key(seed), len(KEY_NAMES))))


def default_workdir(config) -> str:
  return os.path.join('workdirs', f'{config.model}_{config.dataset}'.replace('/', '_'))


def train(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Trains (or resumes) the configured GAN in `workdir`; returns a summary of the timings."""
  config = resolve_config(config)
  mode = parallel_mode(config)
  if config.model != 'ppca':
    _check_batch_split(config, mode)
  _check_workdir_writable(workdir)
  meta = checkpoints.read_latest_meta(workdir)
  if meta is not None:
    _check_compatible(config, meta, workdir)
  images, labels = data.load_split(config.dataset, 'train', config.data_dir)
  if conditioning.for_config(config).conditional:
    _check_labels(config, labels)
  is_writer = jax.process_index() == 0
  # One writer per workdir; other processes of a multi-host run write only through orbax.
  with checkpoints.WorkdirLock(workdir) if is_writer else contextlib.nullcontext():
    try:
      if config.model == 'ppca':
        return _fit_ppca(config, workdir, images, labels, meta, is_writer)
      return _train(config, workdir, mode, images, labels, is_writer)
    except OSError as e:  # metrics, pictures; checkpoint failures come as StorageError
      intact = checkpoints.read_steps(workdir)
      raise StorageError(f'could not write to workdir {workdir!r}: {e}; the checkpoints of steps '
                         f'{intact or "none"} are intact') from e


def _train(config, workdir, mode, images, labels, is_writer) -> dict:
  keys = root_keys(config.seed)
  generator, discriminator = models.build(config)
  state = train_lib.create_state(config, generator, discriminator, keys['init'],
                                 models.build_encoders(config))
  cond = conditioning.for_config(config)
  checkpointer = checkpoints.Checkpointer(workdir)
  target = {'state': checkpoints.host_tree(state),
            'keys': {k: jax.random.key_data(v) for k, v in keys.items()}}
  restored, meta, damaged = checkpointer.restore_latest_intact(target)
  if is_writer:
    checkpointer.quarantine(damaged)
  start_step = 0
  if restored is not None:
    state = restored['state']
    keys = {k: jax.random.wrap_key_data(v) for k, v in restored['keys'].items()}
    start_step = meta['step']
    logging.info('Resuming from step %d (epoch %d, batch %d) in %s', start_step, meta['epoch'],
                 meta['batch_in_epoch'], workdir)

  num_devices = jax.local_device_count() if mode == 'pmap' else None
  batches = data.Batches(images, labels, config.batch_size, keys['data'], num_devices,
                         jax.process_index(), jax.process_count())
  if cond.semi_supervised:
    # A stream of the data key that its epochs (fold_in(key, epoch)) never reach.
    subset_key, labelled_key = jax.random.split(jax.random.fold_in(keys['data'], LABELLED_STREAM))
    subset = conditioning.labelled_subset(labels, config.conditional.num_labelled,
                                          cond.num_classes, subset_key)
    batches = conditioning.LabelledBatches(batches, images, labels, subset,
                                           config.conditional.labelled_batch_size, labelled_key)
  spe = batches.steps_per_epoch
  total_steps = config.num_steps or config.num_epochs * spe
  logging.info('%s on %s: %d images, %d steps per epoch (last %d images of each epoch dropped), '
               '%d steps in total, %s over %d device(s)', config.model, config.dataset, len(images),
               spe, len(images) % config.batch_size, total_steps, mode, num_devices or 1)

  os.makedirs(os.path.join(workdir, 'samples'), exist_ok=True)
  log = MetricsLog(os.path.join(workdir, 'metrics.jsonl'), config.log_every_steps, start_step,
                   is_writer)
  sampler = train_lib.make_sampler(generator)
  grid_key, eval_key = jax.random.split(keys['sample'])
  fixed_z = jax.random.normal(grid_key, (config.num_sample_images, config.latent_dim))
  grid = Grid(cond, fixed_z, data.to_float(images[:8]))
  monitor = None
  if config.eval_every_steps:
    monitor = evaluation.TrainingMonitor(
        config.dataset, config.data_dir, config.classifier_dir,
        jax.random.normal(eval_key, (config.eval_num_samples, config.latent_dim)))
  unreplicate = jax_utils.unreplicate if mode == 'pmap' else (lambda tree: tree)
  state = jax_utils.replicate(state) if mode == 'pmap' else jax.device_put(state)

  step_fn = train_lib.compile_steps(config, mode)
  executables, compile_seconds = {}, 0.0
  epoch_seconds = []  # (seconds, steps) of each epoch this process trained in
  step = start_step
  try:
    while step < total_steps:
      epoch = step // spe
      epoch_end = min((epoch + 1) * spe, total_steps)
      bar = tqdm(total=epoch_end - epoch * spe, initial=step - epoch * spe, unit='step',
                 desc=f'epoch {epoch + 1}', disable=None, leave=False)
      seconds, steps_timed = 0.0, 0
      while step < epoch_end:
        count = min(config.steps_per_call, epoch_end - step,
                    _next_multiple(step, config.checkpoint_every_steps) - step)
        started = time.perf_counter()
        batch = batches.get(step, count)
        if count not in executables:  # compile ahead so the epoch time excludes compilation
          compile_started = time.perf_counter()
          executables[count] = step_fn.lower(state, batch, keys['train']).compile()
          compile_seconds += time.perf_counter() - compile_started
          started += time.perf_counter() - compile_started
        state, metrics = executables[count](state, batch, keys['train'])
        metrics = jax.device_get(metrics)
        if mode == 'pmap':
          metrics = {k: v[0] for k, v in metrics.items()}
        _check_finite(metrics, step)
        log.add_steps(step, metrics, spe, total_steps)
        step += count
        if monitor and step // config.eval_every_steps > (step - count) // config.eval_every_steps:
          started += _evaluate(monitor, sampler, unreplicate(state), log, step, spe, cond)
        if step % config.checkpoint_every_steps == 0 or step == total_steps:
          _save(checkpointer, state, keys, step, batches, config, unreplicate)
        seconds += time.perf_counter() - started
        steps_timed += count
        bar.update(count)
        bar.set_postfix(d_loss=f'{metrics["d_loss"][-1]:.3f}', g_loss=f'{metrics["g_loss"][-1]:.3f}',
                        steps_per_s=f'{steps_timed / seconds:.1f}')
      bar.close()
      epoch_seconds.append((seconds, steps_timed))
      log.add_epoch(epoch + 1, step, seconds, steps_timed, spe)
      logging.info('epoch %d (step %d): %.2f s for %d steps = %.2f s per epoch; d_loss %.4f, '
                   'g_loss %.4f, D(x) %.3f, D(G(z)) %.3f', epoch + 1, step, seconds, steps_timed,
                   seconds / steps_timed * spe, metrics['d_loss'][-1], metrics['g_loss'][-1],
                   metrics['d_real'][-1], metrics['d_fake'][-1])
      if is_writer:
        _save_pictures(workdir, sampler, unreplicate(state), grid, step, spe)
  finally:
    checkpointer.close()

  total_seconds = sum(s for s, _ in epoch_seconds)
  total_timed = sum(n for _, n in epoch_seconds)
  summary = {'steps': step, 'steps_per_epoch': spe, 'compile_seconds': compile_seconds,
             'seconds_per_epoch': total_seconds / total_timed * spe if total_timed else None}
  if total_timed:
    logging.info('Done at step %d: %.2f s per epoch on average over %d steps (compilation %.1f s '
                 'excluded) on %s', step, summary['seconds_per_epoch'], total_timed,
                 compile_seconds, jax.devices()[0].device_kind)
  return summary


def _fit_ppca(config, workdir, images, labels, meta, is_writer) -> dict:
  """PPCA's training: the closed-form fit as checkpoint step 1 (once; a workdir that has it is
  left as it is), its train and held-out log-likelihood in metrics.jsonl, and a sample grid."""
  if meta is not None:
    logging.info('%s already holds the fitted ppca; nothing to do', workdir)
    return {'steps': meta['step'], 'fit_seconds': None}
  keys = root_keys(config.seed)
  generator, _ = models.build(config)
  cond = conditioning.for_config(config)
  started = time.perf_counter()
  params = models.ppca.fit_generator(images, labels, config.ppca.components, cond.conditional)
  fit_seconds = time.perf_counter() - started
  test_images, test_labels = data.load_split(config.dataset, 'test', config.data_dir)
  row = {'step': 1, 'fit_seconds': fit_seconds,
         'train_log_likelihood': models.ppca.mean_log_likelihood(params, images, labels),
         'test_log_likelihood': models.ppca.mean_log_likelihood(params, test_images, test_labels)}
  logging.info('ppca (k=%d%s) fitted to %d images in %.2f s; mean log-likelihood per image: '
               'train %.1f, test %.1f nats', config.ppca.components,
               ', one per class' if cond.conditional else '', len(images), fit_seconds,
               row['train_log_likelihood'], row['test_log_likelihood'])
  state = train_lib.create_state(config, generator, None, keys['init'])
  state = state.replace(step=jnp.ones((), jnp.int32),
                        generator=state.generator.replace(params=params))
  if not is_writer:
    return {'steps': 1, 'fit_seconds': fit_seconds}
  os.makedirs(os.path.join(workdir, 'samples'), exist_ok=True)
  with open(os.path.join(workdir, 'metrics.jsonl'), 'w') as f:
    f.write(json.dumps(row) + '\n')
  checkpointer = checkpoints.Checkpointer(workdir)
  try:
    tree = {'state': checkpoints.host_tree(state),
            'keys': {k: np.asarray(jax.random.key_data(v)) for k, v in keys.items()}}
    checkpointer.save(1, tree, {'step': 1, 'epoch': 0, 'batch_in_epoch': 0,
                                'config': json.loads(config.to_json_best_effort())})
  finally:
    checkpointer.close()
  fixed_z = jax.random.normal(jax.random.split(keys['sample'])[0],
                              (config.num_sample_images, config.latent_dim))
  _save_pictures(workdir, train_lib.make_sampler(generator), state,
                 Grid(cond, fixed_z, data.to_float(images[:8])), 1, 1)
  return {'steps': 1, 'fit_seconds': fit_seconds}


def _evaluate(monitor, sampler, state, log, step, steps_per_epoch, cond) -> float:
  """Logs the monitor's metrics at `step`; returns its seconds, which epoch times exclude."""
  started = time.perf_counter()
  variables = train_lib.generator_variables(state)
  row = monitor(lambda z, start: sampler(variables, conditioning.noise_inputs(cond, z, start)))
  log.add_row(step, steps_per_epoch, row)
  logging.info('step %d: Fréchet distance %.3f, classifier score %.3f (%d samples)', step,
               row['eval_fid'], row['eval_classifier_score'], row['eval_num_samples'])
  return time.perf_counter() - started


def _save(checkpointer, state, keys, step, batches, config, unreplicate):
  tree = {'state': checkpoints.host_tree(unreplicate(state)),
          'keys': {k: np.asarray(jax.random.key_data(v)) for k, v in keys.items()}}
  meta = {'step': step, **batches.position(step), 'steps_per_epoch': batches.steps_per_epoch,
          'config': json.loads(config.to_json_best_effort())}
  checkpointer.save(step, tree, meta)


class Grid:
  """The fixed inputs of the per-epoch sample grid: a row per class for label models, (masked,
  in-painted, original) rows of the first train images for CC-GAN, else 8 columns of noise."""

  def __init__(self, cond, fixed_z, images):
    self.cond, self.images = cond, images
    self.inputs, self.columns = conditioning.grid_inputs(cond, fixed_z, images)

  def __call__(self, sample):
    rows = conditioning.grid_rows(self.cond, np.asarray(sample(self.inputs)), self.inputs,
                                  self.images)
    return data.to_uint8(rows)


def _save_pictures(workdir, sampler, state, grid, step, steps_per_epoch):
  variables = train_lib.generator_variables(state)
  images = grid(lambda inputs: sampler(variables, inputs))
  plots.save_grid(images, os.path.join(workdir, 'samples', f'step_{step:07d}.png'),
                  title=f'epoch {step / steps_per_epoch:.2f}, step {step}', columns=grid.columns)
  plots.refresh_run_pictures(workdir)
