"""CC-GAN, 1000 labels, on MNIST for 25 epochs: results/ccgan1000_mnist.

1000 labelled train images (100 per class), ten times those of ccgan100_mnist, to see how the semi-
supervised gain changes with more labels. Its discriminator, as a classifier, is compared with the
same network trained on those labelled images alone. The 12-pixel hole, the MLP backbone and its
seed settings are the defaults; 25 epochs like the rest of the conditional family.
"""
from gans.configs import default


def get_config():
  config = default.get_config()
  config.model = 'ccgan'
  config.dataset = 'mnist'
  config.conditional.num_labelled = 1000
  config.num_epochs = 25
  return config
