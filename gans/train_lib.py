"""The one training protocol shared by every GAN: a state pytree and a pure per-device step.

`make_train_step` builds `train_step(state, batch, key) -> (state, metrics)`: one discriminator
update on a real batch and a fresh fake batch, then one generator update against the updated
discriminator. What differs between GANs (the models and the loss) is passed in. The same step
runs jitted on one device or pmapped over all local devices (`axis_name`), and `scan_steps` fuses
K steps into one dispatch.
"""
from typing import Any, Optional

import flax.struct
import jax
import jax.numpy as jnp
import optax
from flax.training import train_state

from gans import losses as losses_lib
from gans import models
from gans.data import IMAGE_SHAPE

AXIS = 'batch'  # the pmap axis name


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
  discriminator: ModelState
  ema: Any  # exponential moving average of the generator's variables; {} when off


def create_state(config, generator, discriminator, key) -> GANState:
  g_key, d_key = jax.random.split(key)
  g_vars = generator.init(g_key, jnp.zeros((1, config.latent_dim)), train=False)
  d_vars = discriminator.init(d_key, jnp.zeros((1,) + IMAGE_SHAPE), train=False)

  def model_state(variables):
    # apply_fn stays None: the step is given its modules, which differ between jit and pmap.
    tx = optax.adam(config.learning_rate, b1=config.b1, b2=config.b2)
    return ModelState.create(apply_fn=None, params=variables['params'], tx=tx,
                             batch_stats=variables.get('batch_stats', {}))

  g_state = model_state(g_vars)
  # A copy: the step donates the state, and one buffer cannot be donated twice.
  ema = jax.tree.map(jnp.copy, g_state.variables()) if config.ema_decay > 0 else {}
  return GANState(step=jnp.zeros((), jnp.int32), generator=g_state,
                  discriminator=model_state(d_vars), ema=ema)


def _train_apply(module, model: ModelState, params, x, key):
  """Runs a network in training mode; returns (output, its updated batch statistics)."""
  rngs = {'dropout': key}
  if not model.batch_stats:
    return module.apply(model.variables(params), x, train=True, rngs=rngs), {}
  out, mutated = module.apply(model.variables(params), x, train=True, rngs=rngs,
                              mutable=['batch_stats'])
  return out, mutated['batch_stats']


def make_train_step(config, generator, discriminator, loss: losses_lib.GANLoss,
                    axis_name: Optional[str] = None):
  """The per-device step; with `axis_name` it averages grads, metrics and BN statistics over it.

  Under pmap the generator must be built with the same `axis_name`, so that its BatchNorm uses
  the statistics of the global batch.
  """
  mean = (lambda tree: jax.lax.pmean(tree, axis_name)) if axis_name else (lambda tree: tree)

  def train_step(state: GANState, batch, key):
    real = batch['image']
    local_batch = real.shape[0]
    key = jax.random.fold_in(key, state.step)
    latent_key, key = jax.random.split(key)
    # The latent batch is drawn for the global batch and sliced, so 1 and 8 devices see the
    # same noise; dropout and the penalty's mixing draw per device.
    num_shards = jax.lax.axis_size(axis_name) if axis_name else 1
    shard = jax.lax.axis_index(axis_name) if axis_name else 0
    z = jax.random.normal(latent_key, (num_shards * local_batch, config.latent_dim))
    z = jax.lax.dynamic_slice_in_dim(z, shard * local_batch, local_batch)
    if axis_name:
      key = jax.random.fold_in(key, shard)
    g_dropout_key, d_dropout_key, gp_dropout_key, gp_key, g_loss_key = jax.random.split(key, 5)

    g, d = state.generator, state.discriminator
    # One generator forward serves both updates: D trains on it, G back-propagates through it.
    fake, g_vjp, g_batch_stats = jax.vjp(
        lambda p: _train_apply(generator, g, p, z, g_dropout_key), g.params, has_aux=True)

    def d_loss_fn(params):
      # Real and fake go through D as one batch (BatchNorm in D would normalise them jointly).
      logits, d_batch_stats = _train_apply(discriminator, d, params, jnp.concatenate([real, jax.lax.stop_gradient(fake)]),
                                     d_dropout_key)
      real_logits, fake_logits = jnp.split(logits, 2)
      value = loss.d_loss(real_logits, fake_logits)
      if loss.gradient_penalty:
        critic = lambda x: _train_apply(discriminator, d, params, x, gp_dropout_key)[0]
        value += config.gradient_penalty_weight * losses_lib.gradient_penalty(
            critic, real, jax.lax.stop_gradient(fake), gp_key)
      return value, (real_logits, fake_logits, d_batch_stats)

    (d_loss, (real_logits, fake_logits, d_batch_stats)), d_grads = jax.value_and_grad(
        d_loss_fn, has_aux=True)(d.params)
    d_grads = mean(d_grads)
    d = d.apply_gradients(grads=d_grads, batch_stats=mean(d_batch_stats))

    def g_loss_fn(images):
      logits, _ = _train_apply(discriminator, d, d.params, images, g_loss_key)
      return loss.g_loss(logits)

    g_loss, fake_grads = jax.value_and_grad(g_loss_fn)(fake)

    def update_generator(g):
      g_grads = mean(g_vjp(fake_grads)[0])
      return g.apply_gradients(grads=g_grads), optax.tree.norm(g_grads)

    g = g.replace(batch_stats=g_batch_stats)
    if config.n_critic == 1:
      g, g_grad_norm = update_generator(g)
    else:  # G learns on every n_critic-th step only
      g, g_grad_norm = jax.lax.cond(state.step % config.n_critic == config.n_critic - 1,
                                    update_generator, lambda g: (g, jnp.zeros(())), g)

    ema = state.ema
    if config.ema_decay > 0:
      decay = config.ema_decay
      ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, g.variables())

    metrics = mean({
        'd_loss': d_loss,
        'g_loss': g_loss,
        'd_real': losses_lib.discriminator_outputs(loss, real_logits),
        'd_fake': losses_lib.discriminator_outputs(loss, fake_logits),
        'd_grad_norm': optax.tree.norm(d_grads),
        'g_grad_norm': g_grad_norm,
    })
    return GANState(step=state.step + 1, generator=g, discriminator=d, ema=ema), metrics

  return train_step


def scan_steps(train_step, unroll: bool = False):
  """K steps in one call: batches carry a leading axis of K; metrics come back stacked (K,).

  XLA:CPU runs convolutions inside a while loop about ten times slower than outside one
  (jax-ml/jax#12868), so with `unroll` the K steps become straight-line code instead of a loop.
  """

  def step(key):
    return lambda state, batch: train_step(state, batch, key)

  def run(state, batches, key):
    if not unroll:
      return jax.lax.scan(step(key), state, batches)
    num_steps = jax.tree.leaves(batches)[0].shape[0]
    metrics = []
    for i in range(num_steps):
      state, step_metrics = step(key)(state, jax.tree.map(lambda x: x[i], batches))
      metrics.append(step_metrics)
    return state, jax.tree.map(lambda *m: jnp.stack(m), *metrics)

  return run


def compile_steps(config, mode: str):
  """K fused steps of the configured GAN, jitted ('jit') or pmapped over local devices ('pmap')."""
  axis_name = AXIS if mode == 'pmap' else None
  generator, discriminator = models.build(config, axis_name)
  train_step = make_train_step(config, generator, discriminator, losses_lib.LOSSES[config.loss],
                               axis_name)
  run = scan_steps(train_step, unroll=jax.default_backend() == 'cpu')
  if mode == 'pmap':
    return jax.pmap(run, axis_name=AXIS, in_axes=(0, 0, None), donate_argnums=(0,))
  return jax.jit(run, donate_argnums=(0,))


def generator_variables(state: GANState, use_ema: bool = False):
  if use_ema:
    if not state.ema:
      raise ValueError('this run kept no EMA of the generator (config.ema_decay = 0)')
    return state.ema
  return state.generator.variables()


def make_sampler(generator):
  """A jitted `sample(variables, z) -> images` in inference mode (BatchNorm running averages)."""
  return jax.jit(lambda variables, z: generator.apply(variables, z, train=False))
