"""Population training: several seeds of one config trained side by side in one compiled program.

Each member is the run `train.py` makes with its seed: its own initialisation, epoch orders,
step keys, family data (CC-GAN's labelled subset) and BatchNorm statistics. `jax.vmap` maps the
K-step call of `gans.core.step.make_run` over the members' states, epoch orders, keys and
family pools; the training images are shared, not copied per member. Small networks at batch
64 leave a CPU's or a GPU's cores idle; a population fills them with the seeds a study needs
anyway. There are no checkpoints: a population is a study's unit of work, cheap to run again.
"""
import time

import jax
import jax.numpy as jnp
import numpy as np

from gans.core import data, families
from gans.core import state as state_lib
from gans.core import step as step_lib
from gans.core.errors import UsageError
from gans.run import config as config_lib
from gans.run import datasets, runs
from gans.training import calls as calls_lib


def stack(trees):
  """One tree whose leaves carry the members along a new leading axis, in the structure of the
  first (the members' optimisers are equal but distinct objects in the trees' metadata)."""
  leaves = zip(*(jax.tree.leaves(tree) for tree in trees))
  return jax.tree.unflatten(jax.tree.structure(trees[0]), [jnp.stack(each) for each in leaves])


def _index(tree, index):
  """The `index`-th member of a stacked tree."""
  return jax.tree.map(lambda leaf: leaf[index], tree)


def member(tree, index):
  """The `index`-th member of a stacked tree, as numpy."""
  return jax.device_get(_index(tree, index))


FORMULATIONS = ('vmap', 'unrolled')


def make_population_run(config, family, num_steps: int, formulation: str):
  """The K-step call of every member at once: (states, data, orders, keys) -> (states, metrics),
  each with the members on the leading axis but data['images'], which they share.

  'vmap' maps the call over the members: their matmuls and convolutions become batched ones.
  'unrolled' writes each member's call out in one program, one after another: XLA:CPU runs
  vmapped convolutions (grouped ones) slower than the members' own, while the program still
  saves a dispatch per member (results/performance.md).
  """
  run = step_lib.make_run(config, family, num_steps, unroll=jax.default_backend() == 'cpu')
  if formulation == 'vmap':
    return jax.jit(jax.vmap(run, in_axes=(0, {'images': None, 'pool': 0}, 0, 0)),
                   donate_argnums=(0,))

  def one_after_another(states, data, orders, keys):
    members = range(orders.shape[0])
    return stack([run(_index(states, i), dict(data, pool=_index(data['pool'], i)), orders[i],
                      _index(keys, i)) for i in members])

  return jax.jit(one_after_another, donate_argnums=(0,))


def default_formulation(config) -> str:
  """'vmap' but for convolutional backbones on a CPU (measured: results/performance.md)."""
  on_cpu = jax.default_backend() == 'cpu'
  return 'unrolled' if on_cpu and families.backbone(config) == 'dcgan' else 'vmap'


def train_population(config, seeds, num_steps: int, formulation=None, every=0, at_every=None):
  """Trains config with each of `seeds` for num_steps steps, side by side; returns (the stacked
  final states, {'seconds': training time without compilation, 'compile_seconds': ...}).
  formulation: one of FORMULATIONS, default_formulation(config) when None. With `every`, calls
  end at its multiples and `at_every(step, states, seconds)` is called there (its own time is
  not training time)."""
  config = config_lib.resolve(config)
  formulation = formulation or default_formulation(config)
  if formulation not in FORMULATIONS:
    raise UsageError(f'unknown population formulation {formulation!r}; allowed: '
                     f'{", ".join(FORMULATIONS)}')
  family = families.build(config)
  if family.closed_form:
    raise UsageError(f'a {config.model} is fitted in closed form: it has no steps to train')
  if not seeds or len(set(seeds)) != len(seeds):
    raise UsageError(f'a population needs distinct seeds, got {list(seeds)}')
  images, labels = datasets.load_split(config.dataset, 'train', config.data_dir)
  keys = [runs.root_keys(seed) for seed in seeds]
  networks = family.networks()
  states = stack([state_lib.create_state(config, family, networks, k['init']) for k in keys])
  member_data = [family.train_data(images, labels, k['labelled']) for k in keys]
  train_data = {'images': member_data[0]['images'], 'pool': stack([d['pool'] for d in member_data])}
  step_keys = stack([runs.step_keys(k) for k in keys])
  steps_per_epoch = len(images) // config.batch_size
  make_orders = lambda epoch: stack([data.epoch_order(k['epochs'], epoch, len(images),
                                                      config.batch_size) for k in keys])
  calls = calls_lib.FusedCalls(
      'population step', lambda count: make_population_run(config, family, count, formulation),
      make_orders, config.steps_per_call, steps_per_epoch, num_steps, every=(every,))
  seconds, step = 0.0, 0
  while step < num_steps:
    count, orders = calls.count(step), calls.order_at(step)
    program = calls.program(count, states, train_data, orders, step_keys)
    started = time.perf_counter()  # compiled ahead, so that `seconds` is training alone
    states, _ = program(states, train_data, orders, step_keys)
    jax.block_until_ready(states)
    seconds += time.perf_counter() - started
    step += count
    if every and step % every == 0 and at_every:
      at_every(step, states, seconds)
  return states, {'seconds': seconds, 'compile_seconds': calls.compile_seconds,
                  'members': len(seeds), 'steps': int(np.asarray(states.step)[0]),
                  'formulation': formulation}
