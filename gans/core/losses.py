"""GAN objectives as data: each is a pair of functions of the discriminator's raw outputs.

`d_loss(real_logits, fake_logits)` is minimised by D and `g_loss(fake_logits)` by G. A loss
with `gradient_penalty` adds the WGAN-GP term on real/fake interpolates (Gulrajani et al. 2017),
which `penalties` hands to the step beside the penalty `config.penalty` adds to any loss (DRAGAN,
R1); one with `weight_clipping` has D's optimiser clip the critic's weights
(`gans.core.optimizers`). `logistic` marks losses whose D output is a logit, so D(x)
is reported as a probability. Also the class terms the families share.
"""
import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import optax


@dataclasses.dataclass(frozen=True)
class GANLoss:
  d_loss: Callable[[jax.Array, jax.Array], jax.Array]
  g_loss: Callable[[jax.Array], jax.Array]
  logistic: bool
  gradient_penalty: bool = False
  weight_clipping: bool = False  # D's optimiser clips its weights to [-clip_value, clip_value]


def _bce(logits, target):
  return optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, target)).mean()


def _logistic_d_loss(real, fake):
  return _bce(real, 1.0) + _bce(fake, 0.0)


LOSSES = {
    # Goodfellow et al. 2014, G maximises log D(G(z)) (the "-log D trick").
    'non_saturating': GANLoss(_logistic_d_loss, lambda fake: _bce(fake, 1.0), logistic=True),
    # The original minimax game: G minimises log(1 - D(G(z))).
    'minimax': GANLoss(_logistic_d_loss, lambda fake: -_bce(fake, 0.0), logistic=True),
    # Mao et al. 2017 (LSGAN, a-b-c = 0-1-1).
    'least_squares': GANLoss(
        lambda real, fake: 0.5 * jnp.mean((real - 1.0) ** 2) + 0.5 * jnp.mean(fake ** 2),
        lambda fake: 0.5 * jnp.mean((fake - 1.0) ** 2), logistic=False),
    # Lim & Ye 2017; Miyato et al. 2018.
    'hinge': GANLoss(
        lambda real, fake: jnp.mean(jax.nn.relu(1.0 - real)) + jnp.mean(jax.nn.relu(1.0 + fake)),
        lambda fake: -jnp.mean(fake), logistic=False),
    # Arjovsky et al. 2017 with the gradient penalty of Gulrajani et al. 2017.
    'wasserstein_gp': GANLoss(
        lambda real, fake: jnp.mean(fake) - jnp.mean(real),
        lambda fake: -jnp.mean(fake), logistic=False, gradient_penalty=True),
    # Arjovsky et al. 2017: the critic kept Lipschitz by clipping its weights to [-c, c] after
    # every update (gans.core.optimizers.clip_weights, the last link of D's optimiser).
    'wasserstein_clip': GANLoss(
        lambda real, fake: jnp.mean(fake) - jnp.mean(real),
        lambda fake: -jnp.mean(fake), logistic=False, weight_clipping=True),
}


def _gradient_norms(critic, points):
  """||grad_x critic(x)||_2 of every point x (a row of `points`)."""
  grads = jax.grad(lambda x: critic(x).sum())(points)
  return jnp.sqrt(jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=1) + 1e-12)


def _per_image(key, images):
  """A U[0, 1) number per image, shaped to broadcast over its pixels."""
  return jax.random.uniform(key, (images.shape[0],) + (1,) * (images.ndim - 1))


def gradient_penalty(critic: Callable[[jax.Array], jax.Array], real, fake, key):
  """E[(||grad_x critic(x)||_2 - 1)^2] at random points between real and fake images."""
  eps = _per_image(key, real)
  mixed = eps * real + (1.0 - eps) * fake
  return jnp.mean((_gradient_norms(critic, mixed) - 1.0) ** 2)


def dragan_points(real, key):
  """DRAGAN's points near the real data: x + a (x_p - x), x_p = x + 0.5 std(x) u.

  u ~ U[0, 1) per pixel, std over the whole batch (one number), a ~ U[0, 1) per image: the
  reference implementation's form (github.com/kodalinaveen3/DRAGAN; Kodali et al. 2017).
  """
  noise_key, mix_key = jax.random.split(key)
  perturbed = real + 0.5 * jnp.std(real) * jax.random.uniform(noise_key, real.shape)
  return real + _per_image(mix_key, real) * (perturbed - real)


def dragan_penalty(critic, real, fake, key):
  """E[(||grad_x D(x)||_2 - 1)^2] at `dragan_points` of the real batch (Kodali et al. 2017)."""
  del fake
  return jnp.mean((_gradient_norms(critic, dragan_points(real, key)) - 1.0) ** 2)


def r1_penalty(critic, real, fake, key):
  """R1 (Mescheder et al. 2018): 1/2 E||grad_x D(x)||^2 at the real images, so that its
  weight is the paper's gamma."""
  del fake, key
  grads = jax.grad(lambda x: critic(x).sum())(real)
  return 0.5 * jnp.mean(jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=1))


# config.penalty -> (metric name, penalty(critic, real, fake, key)); added to any loss's D loss,
# weighted by config.penalty_weight.
PENALTIES = {
    'none': None,
    'dragan': ('d_dragan_penalty', dragan_penalty),
    'r1': ('d_r1_penalty', r1_penalty),
}


def discriminator_outputs(loss: GANLoss, logits):
  """D(x) as reported: a probability for logistic losses, the raw score otherwise."""
  return jnp.mean(jax.nn.sigmoid(logits) if loss.logistic else logits)


def penalties(config):
  """[(metric name, weight, penalty(critic, real, fake, key))] the step adds to D's loss: the
  loss's own gradient penalty (wasserstein_gp), then config.penalty's."""
  chosen = []
  if LOSSES[config.loss].gradient_penalty:
    chosen.append(('d_gradient_penalty', config.gradient_penalty_weight, gradient_penalty))
  if PENALTIES[config.penalty] is not None:
    name, penalty = PENALTIES[config.penalty]
    chosen.append((name, config.penalty_weight, penalty))
  return chosen


def cross_entropy(logits, labels):
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def accuracy(logits, labels):
  return jnp.mean(jnp.argmax(logits, -1) == labels)
