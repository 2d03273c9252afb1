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

from gans import conditioning as conditioning_lib
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
  encoders: Any = flax.struct.field(default_factory=dict)  # E-cGAN's ModelState; {} otherwise


def example_inputs(config, cond: conditioning_lib.Conditioning, batch=1):
  """Inputs of G and D of the configured shapes, for initialisation."""
  z = jnp.zeros((batch, config.latent_dim))
  images = jnp.zeros((batch,) + IMAGE_SHAPE)
  labels = jnp.zeros((batch,), jnp.int32)
  masks = jnp.zeros((batch,) + IMAGE_SHAPE, bool)
  return (cond.generator_input(z, labels, images, masks),
          cond.discriminator_input(images, labels))


def create_state(config, generator, discriminator, key, encoders=None) -> GANState:
  if encoders is not None:
    key, e_key = jax.random.split(key)
  g_key, d_key = jax.random.split(key)
  g_input, d_input = example_inputs(config, conditioning_lib.for_config(config))
  g_vars = generator.init(g_key, g_input, train=False)
  if discriminator is None:  # fitted in closed form (PPCA): no D, no optimiser
    return GANState(step=jnp.zeros((), jnp.int32), discriminator={}, ema={},
                    generator=ModelState.create(apply_fn=None, params=g_vars['params'],
                                                tx=optax.identity()))
  d_vars = discriminator.init(d_key, d_input, train=False)

  def model_state(variables):
    # apply_fn stays None: the step is given its modules, which differ between jit and pmap.
    tx = optax.adam(config.learning_rate, b1=config.b1, b2=config.b2)
    return ModelState.create(apply_fn=None, params=variables['params'], tx=tx,
                             batch_stats=variables.get('batch_stats', {}))

  g_state = model_state(g_vars)
  # A copy: the step donates the state, and one buffer cannot be donated twice.
  ema = jax.tree.map(jnp.copy, g_state.variables()) if config.ema_decay > 0 else {}
  e_state = {}
  if encoders is not None:
    e_state = model_state(encoders.init(e_key, jnp.zeros((1,) + IMAGE_SHAPE), train=False))
  return GANState(step=jnp.zeros((), jnp.int32), generator=g_state,
                  discriminator=model_state(d_vars), ema=ema, encoders=e_state)


def _train_apply(module, model: ModelState, params, x, key):
  """Runs a network in training mode; returns (output, its updated batch statistics)."""
  rngs = {'dropout': key}
  if not model.batch_stats:
    return module.apply(model.variables(params), x, train=True, rngs=rngs), {}
  out, mutated = module.apply(model.variables(params), x, train=True, rngs=rngs,
                              mutable=['batch_stats'])
  return out, mutated['batch_stats']


def make_train_step(config, generator, discriminator, loss: losses_lib.GANLoss,
                    axis_name: Optional[str] = None, encoders=None):
  """The per-device step; with `axis_name` it averages grads, metrics and BN statistics over it.

  Under pmap the generator must be built with the same `axis_name`, so that its BatchNorm uses
  the statistics of the global batch. How labels and context enter (cGAN, AC-GAN, CC-GAN,
  E-cGAN) is `conditioning.for_config(config)`; `encoders` are E-cGAN's.
  """
  mean = (lambda tree: jax.lax.pmean(tree, axis_name)) if axis_name else (lambda tree: tree)
  cond = conditioning_lib.for_config(config)

  def train_step(state: GANState, batch, key):
    real = batch['image']
    local_batch = real.shape[0]
    key = jax.random.fold_in(key, state.step)
    latent_key, key = jax.random.split(key)
    # Noise, fake labels and holes are drawn for the global batch and sliced, so 1 and 8
    # devices see the same ones; dropout and the penalty's mixing draw per device.
    num_shards = jax.lax.axis_size(axis_name) if axis_name else 1
    shard = jax.lax.axis_index(axis_name) if axis_name else 0

    def draw_global(draw):
      return jax.lax.dynamic_slice_in_dim(draw(num_shards * local_batch), shard * local_batch,
                                          local_batch)

    if cond.conditional:
      latent_key, label_key, mask_key, labelled_dropout_key = jax.random.split(latent_key, 4)
    z = draw_global(lambda n: jax.random.normal(latent_key, (n, config.latent_dim)))
    fake_labels = masks = None
    if cond.generator_label:
      fake_labels = draw_global(lambda n: jax.random.randint(label_key, (n,), 0, cond.num_classes))
    if cond.hole_size:
      masks = draw_global(lambda n: conditioning_lib.random_masks(mask_key, n, cond.hole_size))
    g_input = cond.generator_input(z, fake_labels, real, masks)
    real_labels = batch['label'] if 'label' in batch else None
    if axis_name:
      key = jax.random.fold_in(key, shard)
      if cond.conditional:
        labelled_dropout_key = jax.random.fold_in(labelled_dropout_key, shard)
    g_dropout_key, d_dropout_key, gp_dropout_key, gp_key, g_loss_key = jax.random.split(key, 5)

    g, d = state.generator, state.discriminator

    def generate(params):
      generated, batch_stats = _train_apply(generator, g, params, g_input, g_dropout_key)
      return cond.compose(generated, real, masks), batch_stats

    # One generator forward serves both updates: D trains on it, G back-propagates through it.
    fake, g_vjp, g_batch_stats = jax.vjp(generate, g.params, has_aux=True)

    def discriminate(params, images, labels, dropout_key):
      outputs, batch_stats = _train_apply(discriminator, d, params,
                                          cond.discriminator_input(images, labels), dropout_key)
      return cond.heads(outputs), batch_stats

    both_labels = None
    if cond.discriminator_label or cond.auxiliary_classifier:
      both_labels = jnp.concatenate([real_labels, fake_labels])

    def d_loss_fn(params):
      # Real and fake go through D as one batch (BatchNorm in D would normalise them jointly).
      heads, d_batch_stats = discriminate(
          params, jnp.concatenate([real, jax.lax.stop_gradient(fake)]), both_labels,
          d_dropout_key)
      real_heads = jax.tree.map(lambda x: x[:local_batch], heads)
      fake_heads = jax.tree.map(lambda x: x[local_batch:], heads)
      value = loss.d_loss(real_heads['adv'], fake_heads['adv'])
      terms = {'d_adv_loss': value}
      if cond.auxiliary_classifier:  # AC-GAN: D names the class of real and fake images
        terms['d_class_loss'] = conditioning_lib.acgan_discriminator_class_loss(
            real_heads['class'], real_labels, fake_heads['class'], fake_labels)
        terms['d_class_accuracy'] = conditioning_lib.accuracy(real_heads['class'], real_labels)
        value += cond.class_loss_weight * terms['d_class_loss']
      if cond.semi_supervised:  # CC-GAN: D names the class of the few labelled images
        labelled, _ = discriminate(params, batch['labelled_image'], None, labelled_dropout_key)
        labels = batch['labelled_label']
        terms['d_class_loss'] = conditioning_lib.cross_entropy(labelled['class'], labels)
        terms['d_class_accuracy'] = conditioning_lib.accuracy(labelled['class'], labels)
        value += terms['d_class_loss']
      if loss.gradient_penalty:
        critic = lambda x: discriminate(params, x, real_labels, gp_dropout_key)[0]['adv']
        value += config.gradient_penalty_weight * losses_lib.gradient_penalty(
            critic, real, jax.lax.stop_gradient(fake), gp_key)
      return value, (real_heads['adv'], fake_heads['adv'], d_batch_stats, terms)

    (d_loss, (real_logits, fake_logits, d_batch_stats, d_terms)), d_grads = jax.value_and_grad(
        d_loss_fn, has_aux=True)(d.params)
    d_grads = mean(d_grads)
    d = d.apply_gradients(grads=d_grads, batch_stats=mean(d_batch_stats))

    def g_loss_fn(images):
      heads, _ = discriminate(d.params, images, fake_labels, g_loss_key)
      value = loss.g_loss(heads['adv'])
      terms = {'g_adv_loss': value}
      if cond.auxiliary_classifier:
        terms['g_class_loss'] = conditioning_lib.cross_entropy(heads['class'], fake_labels)
        value += cond.class_loss_weight * terms['g_class_loss']
      return value, terms

    (g_loss, g_terms), fake_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(fake)

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

    metrics = {
        'd_loss': d_loss,
        'g_loss': g_loss,
        'd_real': losses_lib.discriminator_outputs(loss, real_logits),
        'd_fake': losses_lib.discriminator_outputs(loss, fake_logits),
        'd_grad_norm': optax.tree.norm(d_grads),
        'g_grad_norm': g_grad_norm,
    }
    if cond.auxiliary_classifier or cond.semi_supervised:
      metrics.update(d_terms, **g_terms)

    e = state.encoders
    if cond.encoders:  # IcGAN: E_z and E_y learn to invert this step's generated images
      def encoder_loss_fn(params):
        out = encoders.apply({'params': params}, jax.lax.stop_gradient(fake), train=True)
        terms = {'encoder_z_loss': jnp.mean((out['z'] - z) ** 2),
                 'encoder_label_loss': conditioning_lib.cross_entropy(out['label_logits'],
                                                                      fake_labels)}
        return terms['encoder_z_loss'] + terms['encoder_label_loss'], terms

      (_, e_terms), e_grads = jax.value_and_grad(encoder_loss_fn, has_aux=True)(e.params)
      e = e.apply_gradients(grads=mean(e_grads))
      metrics.update(e_terms)

    new_state = GANState(step=state.step + 1, generator=g, discriminator=d, ema=ema, encoders=e)
    return new_state, mean(metrics)

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
                               axis_name, models.build_encoders(config))
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
  """A jitted `sample(variables, inputs) -> images` in inference mode (BatchNorm running
  averages); `inputs` is z, or the dict a conditional generator takes."""
  return jax.jit(lambda variables, inputs: generator.apply(variables, inputs, train=False))
