"""Probabilistic PCA (Tipping & Bishop 1999), one model or one per class: the classical baseline.

Fitted in closed form (`gans.core.models.ppca.fit_generator`, run by the training layer) rather
than trained by steps: there is no discriminator. Its generator takes the noise (z, eps) as one
vector of k + 784 numbers, and the class-conditional one also a label, so sampling, export,
evaluation and the augmentation experiment use it as they use a GAN.
"""
from gans.core.families import gan
from gans.core.models import ppca


class PPCA(gan.GAN):
  closed_form = True

  def __init__(self, config, backbone, num_classes):
    super().__init__(config, backbone, num_classes)
    self.label_model = config.ppca.class_conditional

  def networks(self, axis_name=None) -> gan.Networks:
    del axis_name
    return gan.Networks(ppca.Generator(self.config.ppca.components,
                                       self.num_classes if self.label_model else 0), None)
