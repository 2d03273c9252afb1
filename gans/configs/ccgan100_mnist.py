"""CC-GAN, 100 labels, on MNIST for 25 epochs: results/first_version/ccgan100_mnist.

100 labelled train images (10 per class): the semi-supervised setting where labels are scarce. Its
discriminator, as a classifier, is compared with the same network trained on those labelled images
alone. The 12-pixel hole, the MLP backbone and its seed settings are the defaults; 25 epochs like
the rest of the conditional family.
"""
from gans.configs import default


def get_config():
  config = default.get_config()
  config.model = 'ccgan'
  config.dataset = 'mnist'
  config.conditional.num_labelled = 100
  config.num_epochs = 25
  return config
