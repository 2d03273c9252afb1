"""The optimisers of G and D, read from the config.

- `config.optimizer`: 'adam' (learning rate, b1, b2) or 'rmsprop' as PyTorch's (the WGAN
  reference code's): the squared-gradient average decays by b2 (PyTorch's alpha), eps 1e-8 is
  added outside the square root, no momentum, so b1 is unused.
- Two time-scale update rule (Heusel et al. 2017): `d_optimizer`, `d_learning_rate`, `d_b1`,
  `d_b2` give D settings of its own; each left as None is the shared value. G, and a family's
  auxiliary network, always take the shared ones.

A model fitted in closed form (no learning rate) gets `optax.identity()`.
"""
import optax

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


def generator(config) -> optax.GradientTransformation:
  """G's optimiser (also the auxiliary network's): the shared settings."""
  if not config.learning_rate:
    return optax.identity()
  return make(config.optimizer, config.learning_rate, config.b1, config.b2)


def discriminator(config) -> optax.GradientTransformation:
  """D's optimiser."""
  return make(**discriminator_settings(config))
