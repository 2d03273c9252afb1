"""The one supervised training loop: the evaluator classifiers, CC-GAN's supervised-only
baseline and the augmentation experiment's classifiers, on images resident on the device."""
import functools

import jax
import jax.numpy as jnp
import optax
from gans.core import data
from gans.run.progress import Progress


def train_classifier(network, tx, images, labels, num_steps, batch_size, key,
                     logits_of=lambda outputs: outputs, description=None):
  """Params of `network` after `num_steps` steps of `tx` on the cross-entropy of minibatches
  drawn uniformly (with replacement) from uint8 `images` (N, 28, 28[, 1]) and int `labels`.

  `key` gives the initialisation, the minibatch indices and dropout, each from its own stream
  folded with the step. `logits_of` picks the logits from the network's outputs. One jitted
  call per step: XLA:CPU runs convolutions in a `lax.scan` loop about ten times slower
  (jax-ml/jax#12868). With a `description`, progress shows (`gans.run.progress`).
  """
  init_key, batch_key, dropout_key = jax.random.split(key, 3)
  params = network.init(init_key, jnp.zeros((1,) + data.IMAGE_SHAPE), train=False)['params']
  images = jnp.asarray(images).reshape((-1,) + data.IMAGE_SHAPE)  # uint8: 4x less memory
  labels = jnp.asarray(labels)

  @functools.partial(jax.jit, donate_argnums=(0, 1))
  def step(params, opt_state, images, labels, i):
    pick = jax.random.randint(jax.random.fold_in(batch_key, i), (batch_size,), 0, len(images))
    x = data.to_float(images[pick])

    def loss_fn(params):
      outputs = network.apply({'params': params}, x, train=True,
                              rngs={'dropout': jax.random.fold_in(dropout_key, i)})
      return optax.softmax_cross_entropy_with_integer_labels(logits_of(outputs),
                                                             labels[pick]).mean()

    updates, opt_state = tx.update(jax.grad(loss_fn)(params), opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  opt_state = tx.init(params)
  progress = Progress(description, num_steps) if description else None
  for i in range(num_steps):
    params, opt_state = step(params, opt_state, images, labels, i)
    if progress:
      progress.update(i + 1)
  if progress:
    progress.close()
  return params
