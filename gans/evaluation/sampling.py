"""Samples from a trained run's latest checkpoint: what evaluate.py exports and scores."""
import os

import jax
import numpy as np

from gans import checkpoints, conditioning, data, models, plots, train_lib, trainer
from gans.errors import UsageError


def load_run(workdir):
  """(config, {'generator', 'discriminator', 'encoders'} modules, restored state tree) from the
  newest intact checkpoint in `workdir`."""
  meta = checkpoints.read_latest_meta(workdir)
  if meta is None:
    raise UsageError(f'no checkpoint in workdir {workdir!r}; train one with train.py first')
  config = trainer.config_from_meta(meta)
  generator, discriminator = models.build(config)
  encoders = models.build_encoders(config)
  template = train_lib.create_state(config, generator, discriminator, jax.random.key(0), encoders)
  keys = {k: np.zeros((2,), np.uint32) for k in trainer.KEY_NAMES}
  checkpointer = checkpoints.Checkpointer(workdir, create=False)
  try:
    restored, _, _ = checkpointer.restore_latest_intact(
        {'state': checkpoints.host_tree(template), 'keys': keys})
  finally:
    checkpointer.close()
  if restored is None:
    raise UsageError(f'no intact checkpoint in workdir {workdir!r}; every one is damaged')
  modules = {'generator': generator, 'discriminator': discriminator, 'encoders': encoders}
  return config, modules, restored['state']


def load_generator(workdir, use_ema=False):
  """(generator module, its variables, config) from the newest checkpoint in `workdir`."""
  config, modules, state = load_run(workdir)
  try:
    variables = train_lib.generator_variables(state, use_ema)
  except ValueError as e:
    raise UsageError(f'--use_ema: {e}') from None
  return modules['generator'], variables, config


def generate(generator, variables, config, num_samples, seed, batch_size=1000):
  """(uint8 images (num_samples, 28, 28), int32 labels or None): batch i uses noise from
  fold_in(key(seed), i), one compile; a label model's labels cycle through the classes."""
  cond = conditioning.for_config(config)
  sampler = train_lib.make_sampler(generator)
  key = jax.random.key(seed)
  out = []
  for i, start in enumerate(range(0, num_samples, batch_size)):
    z = jax.random.normal(jax.random.fold_in(key, i), (batch_size, config.latent_dim))
    images = sampler(variables, conditioning.noise_inputs(cond, z, start))
    out.append(data.to_uint8(images)[:num_samples - start, ..., 0])
  labels = None
  if cond.generator_label:
    labels = conditioning.balanced_labels(cond, 0, num_samples).astype(np.int32)
  return np.concatenate(out), labels


def export_samples(workdir, num_samples, path, seed=0, use_ema=False):
  """Writes `images` uint8 (N, 28, 28) (and a label model's `labels`) to the npz `path` and a
  grid of the first 64 (a row per class for label models) beside it."""
  if num_samples <= 0:
    raise UsageError(f'--num_samples must be a positive integer, got {num_samples}')
  if not path.endswith('.npz'):
    raise UsageError(f'--export must name a .npz file, got {path!r}')
  folder = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
    raise UsageError(f'cannot write {path!r}: {folder} is not a writable directory')
  generator, variables, config = load_generator(workdir, use_ema)
  images, labels = generate(generator, variables, config, num_samples, seed)
  tmp = path[:-len('.npz')] + '.tmp.npz'
  arrays = {'images': images} if labels is None else {'images': images, 'labels': labels}
  np.savez_compressed(tmp, **arrays)
  os.replace(tmp, path)  # a reader never sees half a file
  grid_path = path[:-len('.npz')] + '.png'
  grid = images[:64] if labels is None else class_rows(images, labels, columns=8)
  plots.save_grid(grid, grid_path, columns=8)
  return path, grid_path


def class_rows(images, labels, columns):
  """The first `columns` images of every class, a row per class."""
  return np.concatenate([images[labels == c][:columns] for c in np.unique(labels)])
