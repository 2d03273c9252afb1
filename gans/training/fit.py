"""Models fitted in closed form instead of trained by steps (the family's `fit`: PPCA's).

The fit is checkpoint step 1 (written once; a workdir that has it is left as it is), with its
train and held-out log-likelihood in metrics.jsonl and a sample grid, through the same run
format, writer and pictures as a trained run.
"""
import os
import time

import jax.numpy as jnp
from absl import logging

from gans.core import data
from gans.core import state as state_lib
from gans.run import checkpoints, datasets, pictures, runs, writers


def fit(config, family, workdir, images, labels, meta, is_writer) -> dict:
  if meta is not None:
    logging.info('%s already holds the fitted %s; nothing to do', workdir, config.model)
    return {'steps': meta['step'], 'fit_seconds': None}
  keys = runs.root_keys(config.seed)
  networks = family.networks()
  started = time.perf_counter()
  params = family.fit(images, labels)
  fit_seconds = time.perf_counter() - started
  test = datasets.load_split(config.dataset, 'test', config.data_dir)
  what, scores = family.describe_fit(params, (images, labels), test)
  row = {'step': 1, 'fit_seconds': fit_seconds, **scores}
  logging.info('%s fitted to %d images in %.2f s; %s', what, len(images), fit_seconds,
               ', '.join(f'{name} {value:.1f}' for name, value in scores.items()))
  state = state_lib.create_state(config, family, networks, keys['init'])
  state = state.replace(step=jnp.ones((), jnp.int32),
                        generator=state.generator.replace(params=params))
  if not is_writer:
    return {'steps': 1, 'fit_seconds': fit_seconds}
  os.makedirs(os.path.join(workdir, 'samples'), exist_ok=True)
  log = writers.MetricsLog(os.path.join(workdir, 'metrics.jsonl'), 1, 0, True)
  log.events = writers.EventsWriter(os.path.join(workdir, 'tensorboard'),
                                    config.to_json_best_effort(indent=1), [], [])
  log.add_fit(row)
  checkpointer = checkpoints.Checkpointer(workdir)
  try:
    runs.save(checkpointer, checkpoints.host_tree(state), config, 1, 1)
  finally:
    checkpointer.close()
  sampler = state_lib.make_sampler(networks.generator)
  variables = state_lib.generator_variables(state)
  grid = pictures.Grid(family, runs.grid_noise(config), data.to_float(images[:8]))
  log.events.add_grid(1, grid.save(lambda inputs: sampler(variables, inputs), workdir, 1, 1))
  log.events.close()
  pictures.save_progress_gif(workdir)
  return {'steps': 1, 'fit_seconds': fit_seconds}
