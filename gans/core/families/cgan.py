"""cGAN (Mirza & Osindero 2014): G(z, y) and D(x, y), one-hot labels.

G's input vector is [z, onehot(y)]; D sees the one-hot appended to the flattened image (MLP
backbone) or as K constant label maps beside the image channel (DCGAN backbone). Fake labels are
drawn uniformly; real images come with their own.
"""
from gans.core import data
from gans.core.errors import check_integer, check_non_negative
from gans.core.families import gan
from gans.core.models import conditional


class ConditionalSpec(gan.GANSpec):
  """The settings the conditional families (cGAN, AC-GAN, CC-GAN, E-cGAN) share, in
  config.conditional, and their titles; each family's spec names it in `name`."""
  section = 'conditional'
  backbone_in_section = True
  name = ''

  @classmethod
  def section_defaults(cls) -> dict:
    return {
        # The backbone network, whose section sets the widths and the original learning rate and
        # batch size: 'mlp' or 'dcgan'.
        'backbone': 'mlp',
        'class_loss_weight': 1.0,  # AC-GAN's class cross-entropies
        'hole_size': 12,  # CC-GAN: side of the square hole G in-paints
        'num_labelled': 100,  # CC-GAN: labelled train images, equal per class
        'labelled_batch_size': 32,  # CC-GAN: labelled images per step
    }

  @classmethod
  def check_config(cls, config):
    c = config['conditional']
    super().check_config(config)
    check_integer('conditional.hole_size', c['hole_size'], 1, data.IMAGE_SHAPE[0] - 1)
    for field in ('num_labelled', 'labelled_batch_size'):
      check_integer(f'conditional.{field}', c[field])
    check_non_negative('conditional.class_loss_weight', c['class_loss_weight'])

  @classmethod
  def title(cls, config) -> str:
    return f'{cls.name} ({config["conditional"]["backbone"]} backbone)'


class CGANSpec(ConditionalSpec):
  name = 'cGAN'


class CGAN(gan.GAN):
  Spec = CGANSpec
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
