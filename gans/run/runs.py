"""The run format, in one place: a run's PRNG keys, its identity, and what its checkpoints hold.

A checkpoint holds the state pytree (both networks with optimiser states, BatchNorm statistics,
EMA, the auxiliary network, the step) and JSON metadata: the format version, the step, the
data-pipeline position and the config. The PRNG keys are not stored: they are split once from
the seed, which a workdir keeps for life, so `root_keys(config.seed)` gives them back. Batches
are a pure function of (keys, step), so the state and the step are all a resume needs.
"""
import json
import os

import jax
import ml_collections

from gans.configs import default
from gans.core import families
from gans.core import state as state_lib
from gans.core.errors import UsageError
from gans.run import checkpoints

# Bumped whenever the checkpoint tree, the metadata or the key derivation changes meaning.
FORMAT_VERSION = 2
# The run's keys, split once from the root key of the seed: network initialisation, each
# epoch's image order, the family's choice of data (CC-GAN's labelled subset), the family's
# extra batches, the steps' own randomness, and the fixed noise of grids and the monitor.
KEY_NAMES = ('init', 'epochs', 'labelled', 'batches', 'train', 'sample')
# A workdir keeps these for life, with what its family names (`identity`: its architecture, its
# section, its optimisers' kinds); anything else (epochs, steps, logging, learning rates) may
# change on resume.
IDENTITY_FIELDS = ('model', 'dataset', 'seed', 'batch_size', 'latent_dim', 'loss', 'penalty',
                   'spectral_norm', 'ema_decay')


def root_keys(seed) -> dict:
  return dict(zip(KEY_NAMES, jax.random.split(jax.random.key(seed), len(KEY_NAMES))))


def step_keys(keys) -> dict:
  """The keys the compiled steps take: their own randomness and the family's extra batches."""
  return {'train': keys['train'], 'batches': keys['batches']}


def grid_noise(config):
  """The fixed noise of the per-epoch sample grid."""
  return jax.random.normal(jax.random.split(root_keys(config.seed)['sample'])[0],
                           (config.num_sample_images, config.latent_dim))


def monitor_noise(config):
  """The fixed noise of the samples `eval_every_steps` scores."""
  return jax.random.normal(jax.random.split(root_keys(config.seed)['sample'])[1],
                           (config.eval_num_samples, config.latent_dim))


def identity(config) -> dict:
  ident = {field: config[field] for field in IDENTITY_FIELDS}
  ident.update(families.spec(config.model).identity(config))
  return json.loads(json.dumps(ident))  # tuples and lists compare equal after this


def check_format(meta, workdir):
  version = meta.get('format_version')
  if version != FORMAT_VERSION:
    raise UsageError(f'workdir {workdir!r} was made by an older version of this code (run format '
                     f'{version or 1}, this code reads {FORMAT_VERSION}); train in a new --workdir')


def check_compatible(config, meta, workdir):
  check_format(meta, workdir)
  ours, theirs = identity(config), identity(config_from_meta(meta))
  for field in ours:
    if ours[field] != theirs[field]:
      raise UsageError(f'workdir {workdir!r} holds a run with {field}={theirs[field]!r}, not '
                       f'{ours[field]!r}; use another --workdir or the same {field}')


def config_from_meta(meta) -> ml_collections.ConfigDict:
  """The run's config as saved (JSON lists back to tuples for the modules); fields added to the
  config after the run was saved take their defaults."""
  tuples = lambda d: {k: tuples(v) if isinstance(v, dict) else tuple(v) if isinstance(v, list)
                      else v for k, v in d.items()}
  config = default.get_config()
  config.update(tuples(meta['config']))
  return config


def checkpoint_meta(config, step, steps_per_epoch, log_window=()) -> dict:
  """`log_window`: metrics of the steps since the last log step (a checkpoint between log steps,
  on preemption), so the resumed run logs the same means."""
  return {'format_version': FORMAT_VERSION, 'step': step, 'epoch': step // steps_per_epoch,
          'batch_in_epoch': step % steps_per_epoch, 'steps_per_epoch': steps_per_epoch,
          'log_window': list(log_window), 'config': json.loads(config.to_json_best_effort())}


def save(checkpointer, host_state, config, step, steps_per_epoch, log_window=()):
  checkpointer.save(step, {'state': host_state},
                    checkpoint_meta(config, step, steps_per_epoch, log_window))


def restore_latest(checkpointer, template, is_writer):
  """(state, meta) of the newest intact checkpoint, or (None, None); damaged newer ones are
  skipped and, by the writer, moved aside."""
  restored, meta, damaged = checkpointer.restore_latest_intact({'state': template})
  if is_writer:
    checkpointer.quarantine(damaged)
  return (None, None) if restored is None else (restored['state'], meta)


def labelled_subset(config, labels):
  """CC-GAN's labelled train images (sorted indices), as the run chose them."""
  family = families.build(config)
  return family.labelled_subset(labels, root_keys(config.seed)['labelled'])


def load(workdir):
  """(config, family, networks, state) from the newest intact checkpoint of `workdir`."""
  meta = checkpoints.read_latest_meta(workdir)
  if meta is None:
    raise UsageError(f'no checkpoint in workdir {workdir!r}; train one with train.py first')
  check_format(meta, workdir)
  config = config_from_meta(meta)
  family = families.build(config)
  networks = family.networks()
  template = checkpoints.host_tree(state_lib.create_state(config, family, networks,
                                                         jax.random.key(0)))
  checkpointer = checkpoints.Checkpointer(workdir, create=False)
  try:
    state, _ = restore_latest(checkpointer, template, is_writer=False)
  finally:
    checkpointer.close()
  if state is None:
    raise UsageError(f'no intact checkpoint in workdir {workdir!r}; every one is damaged')
  return config, family, networks, state


def default_workdir(config) -> str:
  return os.path.join('workdirs', f'{config.model}_{config.dataset}'.replace('/', '_'))
