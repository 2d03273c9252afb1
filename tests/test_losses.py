"""Each loss against values computed by hand with numpy on tiny logits."""
import jax.numpy as jnp
import numpy as np
import pytest

from gans.core import losses

REAL = np.array([2.0, -1.0, 0.5])
FAKE = np.array([-3.0, 0.0, 1.5])


def log_sigmoid(x):
  return -np.log1p(np.exp(-x))


def test_logistic_losses():
  d_expected = -np.mean(log_sigmoid(REAL)) - np.mean(np.log(1 - 1 / (1 + np.exp(-FAKE))))
  ns, mm = losses.LOSSES['non_saturating'], losses.LOSSES['minimax']
  np.testing.assert_allclose(ns.d_loss(REAL, FAKE), d_expected, rtol=1e-6)
  np.testing.assert_allclose(mm.d_loss(REAL, FAKE), d_expected, rtol=1e-6)
  np.testing.assert_allclose(ns.g_loss(FAKE), -np.mean(log_sigmoid(FAKE)), rtol=1e-6)
  np.testing.assert_allclose(mm.g_loss(FAKE), np.mean(np.log(1 - 1 / (1 + np.exp(-FAKE)))),
                             rtol=1e-6)


@pytest.mark.parametrize('name, d_expected, g_expected', [
    ('least_squares', 0.5 * np.mean((REAL - 1) ** 2) + 0.5 * np.mean(FAKE ** 2),
     0.5 * np.mean((FAKE - 1) ** 2)),
    ('hinge', np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE)), -np.mean(FAKE)),
    ('wasserstein_gp', np.mean(FAKE) - np.mean(REAL), -np.mean(FAKE)),
    ('wasserstein_clip', np.mean(FAKE) - np.mean(REAL), -np.mean(FAKE)),
])
def test_other_losses(name, d_expected, g_expected):
  loss = losses.LOSSES[name]
  np.testing.assert_allclose(loss.d_loss(REAL, FAKE), d_expected, rtol=1e-6)
  np.testing.assert_allclose(loss.g_loss(FAKE), g_expected, rtol=1e-6)
  assert loss.gradient_penalty == (name == 'wasserstein_gp')
  assert loss.weight_clipping == (name == 'wasserstein_clip')


def test_gradient_penalty_of_a_linear_critic():
  # critic(x) = <w, x> has gradient w everywhere, so the penalty is (|w| - 1)^2 exactly.
  w = jnp.arange(12.0).reshape(1, 2, 2, 3) / 10
  real, fake = jnp.ones((4, 2, 2, 3)), -jnp.ones((4, 2, 2, 3))
  critic = lambda x: jnp.sum(x * w, axis=(1, 2, 3))
  import jax
  penalty = losses.gradient_penalty(critic, real, fake, jax.random.key(0))
  np.testing.assert_allclose(penalty, (np.linalg.norm(np.asarray(w)) - 1) ** 2, rtol=1e-5)


def test_discriminator_outputs_are_probabilities_for_logistic_losses():
  logits = jnp.array([0.0, 100.0])
  assert float(losses.discriminator_outputs(losses.LOSSES['non_saturating'], logits)) == 0.75
  assert float(losses.discriminator_outputs(losses.LOSSES['hinge'], logits)) == 50.0
