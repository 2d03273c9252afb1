"""Samples from a trained run's latest checkpoint: what evaluate.py exports and scores."""
import os

import jax
import numpy as np

from gans import checkpoints, data, models, plots, train_lib, trainer
from gans.errors import UsageError


def load_generator(workdir, use_ema=False):
  """(generator module, its variables, config) from the newest checkpoint in `workdir`."""
  meta = checkpoints.read_latest_meta(workdir)
  if meta is None:
    raise UsageError(f'no checkpoint in workdir {workdir!r}; train one with train.py first')
  config = trainer.config_from_meta(meta)
  generator, discriminator = models.build(config)
  template = train_lib.create_state(config, generator, discriminator, jax.random.key(0))
  keys = {k: np.zeros((2,), np.uint32) for k in trainer.KEY_NAMES}
  checkpointer = checkpoints.Checkpointer(workdir, create=False)
  try:
    restored, _, _ = checkpointer.restore_latest_intact(
        {'state': checkpoints.host_tree(template), 'keys': keys})
  finally:
    checkpointer.close()
  if restored is None:
    raise UsageError(f'no intact checkpoint in workdir {workdir!r}; every one is damaged')
  try:
    variables = train_lib.generator_variables(restored['state'], use_ema)
  except ValueError as e:
    raise UsageError(f'--use_ema: {e}') from None
  return generator, variables, config


def generate(generator, variables, latent_dim, num_samples, seed, batch_size=1000):
  """uint8 (num_samples, 28, 28): batch i uses noise from fold_in(key(seed), i), one compile."""
  sampler = train_lib.make_sampler(generator)
  key = jax.random.key(seed)
  out = []
  for i, start in enumerate(range(0, num_samples, batch_size)):
    z = jax.random.normal(jax.random.fold_in(key, i), (batch_size, latent_dim))
    out.append(data.to_uint8(sampler(variables, z))[:num_samples - start, ..., 0])
  return np.concatenate(out)


def export_samples(workdir, num_samples, path, seed=0, use_ema=False):
  """Writes `images` uint8 (N, 28, 28) to the npz `path` and a grid of the first 64 beside it."""
  if num_samples <= 0:
    raise UsageError(f'--num_samples must be a positive integer, got {num_samples}')
  if not path.endswith('.npz'):
    raise UsageError(f'--export must name a .npz file, got {path!r}')
  folder = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
    raise UsageError(f'cannot write {path!r}: {folder} is not a writable directory')
  generator, variables, config = load_generator(workdir, use_ema)
  images = generate(generator, variables, config.latent_dim, num_samples, seed)
  tmp = path[:-len('.npz')] + '.tmp.npz'
  np.savez_compressed(tmp, images=images)
  os.replace(tmp, path)  # a reader never sees half a file
  grid_path = path[:-len('.npz')] + '.png'
  plots.save_grid(images[:64], grid_path)
  return path, grid_path
