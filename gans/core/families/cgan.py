"""cGAN (Mirza & Osindero 2014): G(z, y) and D(x, y), one-hot labels.

G's input vector is [z, onehot(y)]; D sees the one-hot appended to the flattened image (MLP
backbone) or as K constant label maps beside the image channel (DCGAN backbone). Fake labels are
drawn uniformly; real images come with their own.
"""
from gans.core.families import gan
from gans.core.models import conditional


class CGAN(gan.GAN):
  label_model = True

  def networks(self, axis_name=None) -> gan.Networks:
    generator, discriminator = gan.BACKBONES[self.backbone].build(self.config, axis_name)
    return gan.Networks(
        conditional.ConditionalGenerator(generator, self.num_classes),
        conditional.ConditionalDiscriminator(discriminator, self.num_classes,
                                             label_maps=self.backbone == 'dcgan'))

  def condition(self, inputs):
    return inputs['label']

  def discriminator_input(self, images, condition):
    return {'image': images, 'label': condition}
