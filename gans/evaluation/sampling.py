"""Samples from a trained run's latest checkpoint: what evaluate.py exports and scores."""
import os

import jax
import numpy as np

from gans.core import data
from gans.core import state as state_lib
from gans.core.errors import UsageError
from gans.run import pictures, runs
from gans.run.progress import Progress


def load_generator(workdir, use_ema=False, asked_by='--use_ema'):
  """(family, generator module, its variables) from the newest checkpoint in `workdir`; the
  EMA's variables with `use_ema`, which a run without an EMA refuses, naming the option
  `asked_by` that asked for it."""
  _, family, networks, state = runs.load(workdir)
  try:
    variables = state_lib.generator_variables(state, use_ema)
  except ValueError as e:
    raise UsageError(f'{asked_by}: {workdir}: {e}') from None
  return family, networks.generator, variables


def generate(family, generator, variables, num_samples, seed, batch_size=1000):
  """(uint8 images (num_samples, 28, 28), int32 labels or None): batch i uses noise from
  fold_in(key(seed), i), one compile; a label model's labels cycle through the classes (an
  InfoGAN's categorical codes through their values)."""
  sampler = state_lib.make_sampler(generator)
  key = jax.random.key(seed)
  starts = range(0, num_samples, batch_size)
  progress = Progress(f'sampling {num_samples} images', len(starts), unit='batch')
  out = []
  for i, start in enumerate(starts):
    z = jax.random.normal(jax.random.fold_in(key, i), (batch_size, family.latent_dim))
    images = sampler(variables, family.noise_inputs(z, start))
    out.append(data.to_uint8(images)[:num_samples - start, ..., 0])
    progress.update(i + 1)
  progress.close()
  return np.concatenate(out), family.sample_labels(0, num_samples)


def export_samples(workdir, num_samples, path, seed=0, use_ema=False):
  """Writes `images` uint8 (N, 28, 28) (and a label model's `labels`, an InfoGAN's categorical
  codes) to the npz `path` and a grid of the first 64 (a row per label) beside it."""
  if num_samples <= 0:
    raise UsageError(f'--num_samples must be a positive integer, got {num_samples}')
  if not path.endswith('.npz'):
    raise UsageError(f'--export must name a .npz file, got {path!r}')
  folder = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
    raise UsageError(f'cannot write {path!r}: {folder} is not a writable directory')
  family, generator, variables = load_generator(workdir, use_ema)
  images, labels = generate(family, generator, variables, num_samples, seed)
  tmp = path[:-len('.npz')] + '.tmp.npz'
  arrays = {'images': images} if labels is None else {'images': images, 'labels': labels}
  np.savez_compressed(tmp, **arrays)
  os.replace(tmp, path)  # a reader never sees half a file
  grid_path = path[:-len('.npz')] + '.png'
  grid = images[:64] if labels is None else class_rows(images, labels, columns=8)
  pictures.save_grid(grid, grid_path, columns=8)
  return path, grid_path


def class_rows(images, labels, columns):
  """The first `columns` images of every class, a row per class."""
  return np.concatenate([images[labels == c][:columns] for c in np.unique(labels)])
