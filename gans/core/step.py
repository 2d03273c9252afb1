"""The one training step every GAN shares.

`make_train_step` builds `train_step(state, batch, key) -> (state, metrics)`: one discriminator
update on a real batch and a fresh fake batch, then one generator update (every `n_critic`-th
step) against the updated discriminator, the EMA of G, and the family's auxiliary update. What
differs between GANs is the family's (`gans.core.families`); the step has no branch on which
family runs. `make_run` wraps K steps into one call that gathers each batch on the device from the
training split kept there, so the host only dispatches; `gans.core.parallel` runs it on one
device or many. With an `axis_name` the step averages over the devices of that axis.
"""
from typing import Optional

import jax
import jax.numpy as jnp
import optax

from gans.core import data as data_lib
from gans.core import losses as losses_lib
from gans.core.families import gan
from gans.core.state import GANState, ModelState

# Keys each step splits from fold_in(train key, step), after the draws of the global batch.
# Split as one partitionable split, so that a key added at the end leaves the others' values.
STEP_KEYS = ('g_dropout', 'd_dropout', 'terms_dropout', 'penalty', 'g_loss_dropout',
             'g_terms_dropout')


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


def _generator_loss(fake, discriminate, params, family, loss, batch, draws, keys, joint):
  """G's loss as a function of `fake` (G's side of the pairs), through which it is pulled back
  to G's parameters.

  With `joint` (D normalises over its batch) D judges the fakes beside the reals, as in D's
  update: judged alone, the fakes' features would be normalised by their own mean and variance,
  which G then could not move towards the reals' however D told them apart.
  """
  real_pair, fake_pair = family.discriminator_pairs(fake, batch, draws)
  if joint:
    pairs = jax.tree.map(lambda r, f: jnp.concatenate([jax.lax.stop_gradient(r), f]), real_pair,
                         fake_pair)
    heads = _halves(discriminate(params, *pairs, keys['g_loss_dropout'])[0],
                    len(real_pair[0]))[1]
  else:
    heads, _ = discriminate(params, *fake_pair, keys['g_loss_dropout'])
  adversarial = loss.g_loss(heads['adv'])

  def real_heads():
    """D on the real pairs, differentiable in them (a BiGAN's E(x)); with `joint`, beside the
    fakes as in D's update, so that batch norm (by halves too) sees the same batch, on one
    device or split over many."""
    if not joint:
      return discriminate(params, *real_pair, keys['g_terms_dropout'])[0]
    pairs = jax.tree.map(lambda r, f: jnp.concatenate([r, jax.lax.stop_gradient(f)]), real_pair,
                         fake_pair)
    return _halves(discriminate(params, *pairs, keys['g_terms_dropout'])[0],
                   len(real_pair[0]))[0]

  value, terms = family.generator_terms(heads, draws, real_heads)
  return value + adversarial, {'g_adv_loss': adversarial, **terms}


def _moving_average(decay, average, variables):
  return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, average, variables)


def ema_decay_at(step, decay, warmup):
  """The EMA's decay at `step`: `decay`, or with a warm-up min(decay, (1 + step) / (10 + step))."""
  if not warmup:
    return decay
  return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def make_train_step(config, family: gan.GAN, networks: gan.Networks,
                    axis_name: Optional[str] = None):
  """The per-device step; with `axis_name` it averages grads, metrics and BN statistics over it.

  Under pmap the networks must be built with the same `axis_name`, so that G's BatchNorm uses
  the statistics of the global batch.
  """
  loss, penalties = losses_lib.LOSSES[config.loss], losses_lib.penalties(config)
  mean = (lambda tree: jax.lax.pmean(tree, axis_name)) if axis_name else (lambda tree: tree)
  n_critic, ema_decay, ema_warmup = config.n_critic, config.ema_decay, config.ema_warmup
  joint = family.discriminator_normalises_batch()

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
        fake, discriminate, d.params, family, loss, batch, draws, keys, joint)

    def update_generator(g):
      grads = mean(g_vjp(fake_grads)[0])
      return g.apply_gradients(grads=grads), optax.tree.norm(grads)

    g = g.replace(batch_stats=g_stats)
    if n_critic == 1:
      g, g_grad_norm = update_generator(g)
    else:  # G learns on every n_critic-th step only
      g, g_grad_norm = jax.lax.cond(state.step % n_critic == n_critic - 1, update_generator,
                                    lambda g: (g, jnp.zeros(())), g)
    ema = (_moving_average(ema_decay_at(state.step, ema_decay, ema_warmup), state.ema,
                           g.variables()) if ema_decay else state.ema)
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
