"""AC-GAN (Odena et al. 2017): G(z, y); D(x) has a real/fake logit and K class logits.

D learns to name the class of real images and of fakes made for a class, G to make fakes D
names as their class: L_C = CE(real) + CE(fake) for D, CE(fake) for G, each weighted by
`conditional.class_loss_weight`.
"""
from gans.core import losses
from gans.core.families import cgan, gan
from gans.core.models import conditional


class ACGANSpec(cgan.ConditionalSpec):
  name = 'AC-GAN'
  # The epochs the AC-GAN project this codebase grew from showed grids of.
  published_grid_epochs = {'acgan': (5, 30, 100)}


class ACGAN(gan.GAN):
  Spec = ACGANSpec
  label_model = True

  def discriminator_outputs(self) -> int:
    return 1 + self.num_classes

  def networks(self, axis_name=None) -> gan.Networks:
    networks = super().networks(axis_name)
    return networks._replace(
        generator=conditional.ConditionalGenerator(networks.generator, self.num_classes))

  def heads(self, outputs) -> dict:
    return {'adv': outputs[:, 0], 'class': outputs[:, 1:]}

  def discriminator_terms(self, real_heads, fake_heads, batch, draws, discriminate):
    class_loss = (losses.cross_entropy(real_heads['class'], batch['label'])
                  + losses.cross_entropy(fake_heads['class'], draws['label']))
    return self.config.conditional.class_loss_weight * class_loss, {
        'd_class_loss': class_loss,
        'd_class_accuracy': losses.accuracy(real_heads['class'], batch['label'])}

  def generator_terms(self, fake_heads, draws, real_heads):
    del real_heads
    class_loss = losses.cross_entropy(fake_heads['class'], draws['label'])
    return self.config.conditional.class_loss_weight * class_loss, {'g_class_loss': class_loss}
