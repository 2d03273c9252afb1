"""A GAN's training state and its initialisation, and how a generator is read out of it.

`GANState` holds each network's parameters, optimiser state and BatchNorm statistics, the EMA of
the generator and the family's auxiliary network; `create_state` builds it fresh from the family
and the run's initialisation key. The step that updates it is `gans.core.step`; where it lives on
the devices, `gans.core.parallel`.
"""
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
from flax.training import train_state

from gans.core import data as data_lib
from gans.core import optimizers
from gans.core.families import gan


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
