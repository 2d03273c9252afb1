"""The one training step every GAN shares, and how it runs on one device or many.

`make_train_step` builds `train_step(state, batch, key) -> (state, metrics)`: one discriminator
update on a real batch and a fresh fake batch, then one generator update (every `n_critic`-th
step) against the updated discriminator, the EMA of G, and the family's auxiliary update. What
differs between GANs is the family's (`gans.core.families`); the step has no branch on which
family runs. `make_run` wraps K steps into one call that gathers each batch on the device from the
training split kept there, so the host only dispatches. It runs jitted on one device ('jit'),
pmapped over the local devices ('pmap'), or jitted over a 1-D device mesh with the batch sharded
and the state replicated ('sharded'); `Placement` puts arrays where each mode wants them.
"""
from typing import Any, Optional

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import jax_utils
from flax.training import train_state
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from gans.core import data as data_lib
from gans.core import losses as losses_lib
from gans.core import optimizers
from gans.core.families import gan

AXIS = 'batch'  # the pmap axis and the mesh axis the batch is split over
PARALLEL_MODES = ('jit', 'pmap', 'sharded')
# Keys each step splits from fold_in(train key, step), after the draws of the global batch.
# Split as one partitionable split, so that a key added at the end leaves the others' values.
STEP_KEYS = ('g_dropout', 'd_dropout', 'terms_dropout', 'penalty', 'g_loss_dropout',
             'g_terms_dropout')


class ModelState(train_state.TrainState):
  """params + optimiser state of one network, and its non-trainable collections (BatchNorm)."""
  batch_stats: Any = flax.struct.field(default_factory=dict)

  def variables(self, params=None):
    params = self.params if params is None else params
    return {'params': params, 'batch_stats': self.batch_stats} if self.batch_stats else {
        'params': params}


class GANState(flax.struct.PyTreeNode):
  step: jax.Array  # steps taken, one D update each
  generator: ModelState
  discriminator: Any  # ModelState; {} for a model fitted in closed form
  ema: Any  # exponential moving average of the generator's variables; {} when off
  auxiliary: Any = flax.struct.field(default_factory=dict)  # the family's extra network, or {}


def example_batch(batch=1) -> dict:
  return {'image': jnp.zeros((batch,) + data_lib.IMAGE_SHAPE),
          'label': jnp.zeros((batch,), jnp.int32)}


def create_state(config, family: gan.GAN, networks: gan.Networks, key) -> GANState:
  """Fresh networks and optimisers (`gans.core.optimizers`: G's and an auxiliary network's from
  the shared settings, D's from its own). The example inputs only fix shapes (a constant key
  draws them); `key` is the run's initialisation key."""
  g_key, d_key, aux_key = jax.random.split(key, 3)
  batch = example_batch()
  draws = family.draw(jax.random.key(0), 1)
  g_vars = networks.generator.init(g_key, family.generator_input(draws, batch), train=False)

  def model_state(variables, tx):
    # apply_fn stays None: the step is given its modules, which differ between jit and pmap.
    return ModelState.create(apply_fn=None, params=variables['params'], tx=tx,
                             batch_stats=variables.get('batch_stats', {}))

  g_state = model_state(g_vars, optimizers.generator(config))
  if networks.discriminator is None:  # fitted in closed form (PPCA): no D, no EMA
    return GANState(step=jnp.zeros((), jnp.int32), generator=g_state, discriminator={}, ema={})
  # D's example is a real pair, whose condition may come from G's side (BiGAN's E(x)).
  fake = family.fake_images(networks.generator.apply(g_vars, family.generator_input(draws, batch),
                                                     train=False), draws, batch)
  (real, real_condition), _ = family.discriminator_pairs(fake, batch, draws)
  d_input = family.discriminator_input(real, real_condition)
  d_state = model_state(networks.discriminator.init(d_key, d_input, train=False),
                        optimizers.discriminator(config))
  # A copy: the step donates the state, and one buffer cannot be donated twice.
  ema = jax.tree.map(jnp.copy, g_state.variables()) if config.ema_decay > 0 else {}
  aux = {}
  if networks.auxiliary is not None:
    aux = model_state(networks.auxiliary.init(aux_key, batch['image'], train=False),
                      optimizers.generator(config))
  return GANState(step=jnp.zeros((), jnp.int32), generator=g_state, discriminator=d_state,
                  ema=ema, auxiliary=aux)


def _train_apply(module, model: ModelState, params, x, key):
  """Runs a network in training mode; returns (output, its updated batch statistics)."""
  rngs = {'dropout': key}
  if not model.batch_stats:
    return module.apply(model.variables(params), x, train=True, rngs=rngs), {}
  out, mutated = module.apply(model.variables(params), x, train=True, rngs=rngs,
                              mutable=['batch_stats'])
  return out, mutated['batch_stats']


def _shard(axis_name):
  """(this device's index, device count) along `axis_name`; (0, 1) without one."""
  if axis_name is None:
    return 0, 1
  return jax.lax.axis_index(axis_name), jax.lax.axis_size(axis_name)


def _local(tree, shard, count):
  """This device's part of arrays drawn for all devices (leading axes split evenly)."""
  return jax.tree.map(lambda x: x.reshape((count, -1) + x.shape[1:])[shard], tree)


def _halves(tree, n):
  return jax.tree.map(lambda x: x[:n], tree), jax.tree.map(lambda x: x[n:], tree)


def _inputs(family, batch, key, step, axis_name):
  """(this device's draws, its named keys) for `step`.

  Noise, fake labels and holes are drawn for the global batch and sliced, so any device count
  sees the same ones; the keys of dropout and penalties differ per device under pmap.
  """
  shard, count = _shard(axis_name)
  draw_key, key = jax.random.split(jax.random.fold_in(key, step))
  draws = _local(family.draw(draw_key, count * len(batch['image'])), shard, count)
  key = jax.random.fold_in(key, shard) if axis_name else key
  return draws, dict(zip(STEP_KEYS, jax.random.split(key, len(STEP_KEYS))))


def _discriminator_loss(params, discriminate, family, loss, penalties, batch, draws, fake, keys):
  """D's loss on the real pairs and the fake ones: adversarial + the family's terms + penalties."""
  (real, real_condition), fake_pair = family.discriminator_pairs(fake, batch, draws)
  # Real and fake go through D as one batch (BatchNorm in D would normalise them jointly).
  joint = jax.tree.map(lambda r, f: jnp.concatenate([r, f]), (real, real_condition), fake_pair)
  heads, stats = discriminate(params, *joint, keys['d_dropout'])
  real_heads, fake_heads = _halves(heads, len(real))
  adversarial = loss.d_loss(real_heads['adv'], fake_heads['adv'])
  value, terms = family.discriminator_terms(
      real_heads, fake_heads, batch, draws,
      lambda x, c: discriminate(params, x, c, keys['terms_dropout'])[0])
  value += adversarial
  for (name, weight, penalty), key in zip(penalties,
                                          jax.random.split(keys['penalty'], len(penalties))):
    mix_key, dropout_key = jax.random.split(key)
    critic = lambda x: discriminate(params, x, real_condition, dropout_key)[0]['adv']
    terms[name] = penalty(critic, real, fake_pair[0], mix_key)
    value += weight * terms[name]
  return value, (real_heads['adv'], fake_heads['adv'], stats, {'d_adv_loss': adversarial, **terms})


def _generator_loss(fake, discriminate, params, family, loss, batch, draws, keys):
  """G's loss as a function of `fake` (G's side of the pairs), through which it is pulled back
  to G's parameters."""
  real_pair, fake_pair = family.discriminator_pairs(fake, batch, draws)
  heads, _ = discriminate(params, *fake_pair, keys['g_loss_dropout'])
  adversarial = loss.g_loss(heads['adv'])
  value, terms = family.generator_terms(
      heads, draws, lambda: discriminate(params, *real_pair, keys['g_terms_dropout'])[0])
  return value + adversarial, {'g_adv_loss': adversarial, **terms}


def _moving_average(decay, average, variables):
  return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, average, variables)


def make_train_step(config, family: gan.GAN, networks: gan.Networks,
                    axis_name: Optional[str] = None):
  """The per-device step; with `axis_name` it averages grads, metrics and BN statistics over it.

  Under pmap the networks must be built with the same `axis_name`, so that G's BatchNorm uses
  the statistics of the global batch.
  """
  loss, penalties = losses_lib.LOSSES[config.loss], losses_lib.penalties(config)
  mean = (lambda tree: jax.lax.pmean(tree, axis_name)) if axis_name else (lambda tree: tree)
  n_critic, ema_decay = config.n_critic, config.ema_decay

  def train_step(state: GANState, batch, key):
    draws, keys = _inputs(family, batch, key, state.step, axis_name)
    g, d = state.generator, state.discriminator

    def generate(params):
      generated, stats = _train_apply(networks.generator, g, params,
                                      family.generator_input(draws, batch), keys['g_dropout'])
      return family.fake_images(generated, draws, batch), stats

    def discriminate(params, images, condition, key):
      outputs, stats = _train_apply(networks.discriminator, d, params,
                                    family.discriminator_input(images, condition), key)
      return family.heads(outputs), stats

    # One generator forward serves both updates: D trains on it, G back-propagates through it.
    fake, g_vjp, g_stats = jax.vjp(generate, g.params, has_aux=True)
    (d_loss, (real_logits, fake_logits, d_stats, d_terms)), d_grads = jax.value_and_grad(
        _discriminator_loss, has_aux=True)(d.params, discriminate, family, loss, penalties, batch,
                                           draws, jax.lax.stop_gradient(fake), keys)
    d_grads = mean(d_grads)
    d = d.apply_gradients(grads=d_grads, batch_stats=mean(d_stats))
    (g_loss, g_terms), fake_grads = jax.value_and_grad(_generator_loss, has_aux=True)(
        fake, discriminate, d.params, family, loss, batch, draws, keys)

    def update_generator(g):
      grads = mean(g_vjp(fake_grads)[0])
      return g.apply_gradients(grads=grads), optax.tree.norm(grads)

    g = g.replace(batch_stats=g_stats)
    if n_critic == 1:
      g, g_grad_norm = update_generator(g)
    else:  # G learns on every n_critic-th step only
      g, g_grad_norm = jax.lax.cond(state.step % n_critic == n_critic - 1, update_generator,
                                    lambda g: (g, jnp.zeros(())), g)
    ema = _moving_average(ema_decay, state.ema, g.variables()) if ema_decay else state.ema
    auxiliary, aux_terms = family.update_auxiliary(networks.auxiliary, state.auxiliary, fake,
                                                   draws, mean)
    metrics = {'d_loss': d_loss, 'g_loss': g_loss,
               'd_real': losses_lib.discriminator_outputs(loss, real_logits),
               'd_fake': losses_lib.discriminator_outputs(loss, fake_logits),
               'd_grad_norm': optax.tree.norm(d_grads), 'g_grad_norm': g_grad_norm,
               **d_terms, **g_terms, **aux_terms}
    return GANState(step=state.step + 1, generator=g, discriminator=d, ema=ema,
                    auxiliary=auxiliary), mean(metrics)

  return train_step


def gather_batch(family: gan.GAN, data, order, step, key, axis_name=None):
  """The batch of `step` on this device, gathered from the training split on the device.

  `order` (steps per epoch, global batch) holds the image indices of every step of the epoch
  (`data.epoch_order`); `data` is the family's `train_data` with uint8 images. The family's extra
  batch is drawn for the global batch from fold_in(key, step) and sliced like the images.
  """
  shard, count = _shard(axis_name)
  indices = _local(order[step % order.shape[0]], shard, count)
  batch = {name: array[indices] for name, array in data['images'].items()}
  batch['image'] = data_lib.to_float(batch['image'])
  extra = family.extra_batch(data['pool'], jax.random.fold_in(key, step))
  return {**batch, **_local(extra, shard, count)}


def make_run(config, family: gan.GAN, num_steps: int, unroll: bool, axis_name=None):
  """`run(state, data, order, keys) -> (state, metrics of shape (num_steps,))`: num_steps steps
  from state.step, within one epoch. keys: {'train': the step's key, 'batches': the family's
  extra batches' key}.

  XLA:CPU runs convolutions inside a while loop about ten times slower than outside one
  (jax-ml/jax#12868), so with `unroll` the steps are straight-line code instead of a scan.
  """
  networks = family.networks(axis_name)
  train_step = make_train_step(config, family, networks, axis_name)

  def one_step(state, data, order, keys):
    batch = gather_batch(family, data, order, state.step, keys['batches'], axis_name)
    return train_step(state, batch, keys['train'])

  def run(state, data, order, keys):
    if not unroll:
      return jax.lax.scan(lambda s, _: one_step(s, data, order, keys), state, length=num_steps)
    metrics = []
    for _ in range(num_steps):
      state, step_metrics = one_step(state, data, order, keys)
      metrics.append(step_metrics)
    return state, jax.tree.map(lambda *m: jnp.stack(m), *metrics)

  return run


class Placement:
  """Where the state, the training data and the epoch order live in each parallel mode, and the
  compiled K-step call.

  jit: one device. pmap: a copy of everything on each local device (leading device axis), the
  batch split over them by `axis_index`. sharded: a 1-D mesh over all devices (of all
  processes); state and data replicated, each step's indices, hence its batch, split over the
  mesh by jit's partitioner.
  """

  def __init__(self, mode: str):
    if mode not in PARALLEL_MODES:
      raise ValueError(f'unknown parallel mode {mode!r}; allowed: {", ".join(PARALLEL_MODES)}')
    self.mode = mode
    self.num_shards = self.shard_count(mode)
    if mode == 'sharded':
      self.mesh = Mesh(np.asarray(jax.devices()), (AXIS,))
      self.replicated = NamedSharding(self.mesh, PartitionSpec())
      self.by_batch = NamedSharding(self.mesh, PartitionSpec(None, AXIS))

  @staticmethod
  def shard_count(mode) -> int:
    """How many parts each global batch is split into."""
    return 1 if mode == 'jit' else jax.device_count()

  def _global(self, tree, sharding):
    """Host arrays -> global arrays of `sharding`; every process passes the same values."""
    return jax.tree.map(lambda x: jax.make_array_from_callback(
        np.shape(x), sharding, lambda index: np.asarray(x)[index]), tree)

  def put(self, tree):
    """The state or the training data, placed for the step."""
    if self.mode == 'pmap':
      return jax_utils.replicate(tree)
    if self.mode == 'sharded':
      return self._global(tree, self.replicated)
    return jax.device_put(tree)

  def put_order(self, order):
    if self.mode == 'pmap':
      return jax_utils.replicate(order)
    if self.mode == 'sharded':
      return self._global(np.asarray(order), self.by_batch)
    return jax.device_put(order)

  def host(self, tree):
    """One copy of a placed tree, as numpy (state for checkpoints and pictures, metrics)."""
    return jax.device_get(self.one_copy(tree))

  def one_copy(self, tree):
    """One device's copy of a placed tree, left on the device (for sampling during training)."""
    if self.mode == 'pmap':
      return jax.tree.map(lambda x: x[0], tree)
    if self.mode == 'sharded':
      return jax.tree.map(lambda x: x.addressable_data(0), tree)
    return tree

  def compile(self, config, family, num_steps: int):
    """The jitted or pmapped K-step call; the state argument is donated."""
    unroll = jax.default_backend() == 'cpu'
    if self.mode == 'pmap':
      run = make_run(config, family, num_steps, unroll, AXIS)
      return jax.pmap(run, axis_name=AXIS, in_axes=(0, 0, 0, None), donate_argnums=(0,))
    run = make_run(config, family, num_steps, unroll)
    if self.mode == 'sharded':
      return jax.jit(run, out_shardings=(self.replicated, self.replicated), donate_argnums=(0,))
    return jax.jit(run, donate_argnums=(0,))


def generator_variables(state: GANState, use_ema: bool = False):
  if use_ema:
    if not state.ema:
      raise ValueError('this run kept no EMA of the generator (config.ema_decay = 0)')
    return state.ema
  return state.generator.variables()


def make_sampler(generator):
  """A jitted `sample(variables, inputs) -> images` in inference mode (BatchNorm running
  averages); `inputs` is z, or the dict a conditional generator takes."""
  return jax.jit(lambda variables, inputs: generator.apply(variables, inputs, train=False))
