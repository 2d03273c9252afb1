"""The optimisers of G and D, read from the config.

- `config.optimizer`: 'adam' (learning rate, b1, b2) or 'rmsprop' as PyTorch's (the WGAN
  reference code's): the squared-gradient average decays by b2 (PyTorch's alpha), eps 1e-8 is
  added outside the square root, no momentum, so b1 is unused.
- Two time-scale update rule (Heusel et al. 2017): `d_optimizer`, `d_learning_rate`, `d_b1`,
  `d_b2` give D settings of its own; each left as None is the shared value. G, and a family's
  auxiliary network, always take the shared ones. `d_head_learning_rate` gives D's head layers
  (named `HEAD_PREFIX`..., InfoGAN's Q) a learning rate of their own, with D's other settings.
- A loss with `weight_clipping` (wasserstein_clip, Arjovsky et al. 2017) ends D's chain with
  `clip_weights(config.clip_value)`, so the step's plain `apply_gradients` leaves every critic
  parameter in [-c, c] after every D update.

A model fitted in closed form (no learning rate) gets `optax.identity()`.
"""
import jax
import jax.numpy as jnp
import optax

from gans.core import losses

OPTIMIZERS = ('adam', 'rmsprop')
RMSPROP_EPS = 1e-8  # PyTorch's default


def make(kind, learning_rate, b1, b2) -> optax.GradientTransformation:
  """An optimiser of OPTIMIZERS with these settings."""
  if kind == 'adam':
    return optax.adam(learning_rate, b1=b1, b2=b2)
  if kind == 'rmsprop':
    return optax.rmsprop(learning_rate, decay=b2, eps=RMSPROP_EPS, eps_in_sqrt=False)
  raise ValueError(f'unknown optimizer {kind!r}; allowed: {", ".join(OPTIMIZERS)}')


def _own(value, shared):
  return shared if value is None else value


def discriminator_settings(config) -> dict:
  """D's optimiser kind, learning rate, b1 and b2: its own where set, else the shared ones."""
  return {'kind': _own(config.d_optimizer, config.optimizer),
          'learning_rate': _own(config.d_learning_rate, config.learning_rate),
          'b1': _own(config.d_b1, config.b1), 'b2': _own(config.d_b2, config.b2)}


def discriminator_kind(config) -> str:
  """What shapes D's optimiser state, for a workdir's identity: the optimiser's kind, and whether
  its head layers have one of their own (optax.multi_transform's state)."""
  kind = discriminator_settings(config)['kind']
  return kind if config.d_head_learning_rate is None else f'{kind}, head layers apart'


def generator(config) -> optax.GradientTransformation:
  """G's optimiser (also the auxiliary network's): the shared settings."""
  if not config.learning_rate:
    return optax.identity()
  return make(config.optimizer, config.learning_rate, config.b1, config.b2)


HEAD_PREFIX = 'Head'  # the names of D's head layers (gans.core.models.dcgan)


def head_labels(params):
  """'head' for each parameter of a layer named HEAD_PREFIX..., 'trunk' for the others."""
  def label(path, _):
    names = [str(getattr(key, 'key', '')) for key in path]
    return 'head' if any(name.startswith(HEAD_PREFIX) for name in names) else 'trunk'
  return jax.tree_util.tree_map_with_path(label, params)


def discriminator(config) -> optax.GradientTransformation:
  """D's optimiser (its head layers at their own learning rate where one is set), followed by
  the weight clipping of a loss that asks for it."""
  settings = discriminator_settings(config)
  tx = make(**settings)
  if config.d_head_learning_rate is not None:
    head = make(**dict(settings, learning_rate=config.d_head_learning_rate))
    tx = optax.multi_transform({'trunk': tx, 'head': head}, head_labels)
  if losses.LOSSES[config.loss].weight_clipping:
    return optax.chain(tx, clip_weights(config.clip_value))
  return tx


def clip_weights(bound: float) -> optax.GradientTransformation:
  """Turns the updates u into ones after which every parameter lies in [-bound, bound].

  Where p + u already does, u is kept as it is; elsewhere the update is the difference that
  lands p on the nearer bound (the WGAN critic's weight clipping; Arjovsky et al. 2017). Since
  optax.apply_updates adds that difference back in float32, it may round one step past the
  bound; such an update is moved one float towards the inside, which is enough (`_land`), so
  the clipped parameters never leave [-bound, bound].
  """

  def update(updates, state, params=None):
    if params is None:
      raise ValueError('clip_weights needs the parameters')
    return jax.tree.map(lambda u, p: _land(u, p, bound), updates, params), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def _land(update, param, bound):
  """An update d with param + d (in param's precision) inside [-bound, bound].

  d0 = fl(b - p) differs from b - p by at most half its spacing s, so p + d0 lies within s / 2
  of b; when it rounds beyond b, stepping d0 by one spacing towards the inside puts the exact
  sum on the inside of b, and rounding keeps it there (b is itself a float).
  """
  target = param + update
  clipped = jnp.clip(target, -bound, bound)
  delta = jnp.where(target == clipped, update, clipped - param)
  landed = param + delta
  delta = jnp.where(landed > bound, jnp.nextafter(delta, jnp.full_like(delta, -jnp.inf)), delta)
  return jnp.where(landed < -bound, jnp.nextafter(delta, jnp.full_like(delta, jnp.inf)), delta)
