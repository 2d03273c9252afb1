"""E-cGAN / IcGAN (Perarnau et al. 2016): the cGAN plus encoders E_z(x) -> z and E_y(x) -> y.

The encoders (each the backbone discriminator without dropout or spectral normalisation) learn
every step to invert that step's generated images: mean squared error to z and cross-entropy to
y. Evaluation then reconstructs real images G(E_z(x), E_y(x)) and swaps their labels
G(E_z(x), y').
"""
import functools

import jax
import jax.numpy as jnp

from gans.core import losses
from gans.core.families import cgan, gan
from gans.core.models import conditional


class ECGAN(cgan.CGAN):
  reports = ('icgan',)
  name = 'E-cGAN'

  def networks(self, axis_name=None) -> gan.Networks:
    networks = super().networks(axis_name)
    _, template = gan.BACKBONES[self.backbone].build(self.config)
    # Plain networks: D's spectral normalisation (an adversarial regulariser) is not theirs.
    plain = functools.partial(template.clone, dropout_rate=0.0, spectral_norm=False)
    encoders = conditional.Encoders(plain(outputs=self.latent_dim),
                                    plain(outputs=self.num_classes))
    return networks._replace(auxiliary=encoders)

  def update_auxiliary(self, module, state, fake, draws, mean):
    def loss_fn(params):
      out = module.apply({'params': params}, jax.lax.stop_gradient(fake), train=True)
      terms = {'encoder_z_loss': jnp.mean((out['z'] - draws['z']) ** 2),
               'encoder_label_loss': losses.cross_entropy(out['label_logits'], draws['label'])}
      return terms['encoder_z_loss'] + terms['encoder_label_loss'], terms

    (_, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    return state.apply_gradients(grads=mean(grads)), terms
