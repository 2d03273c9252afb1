"""CC-GAN, 1000 labels, on MNIST for 25 epochs: results/first_version/ccgan1000_mnist.

1000 labelled train images (100 per class), ten times those of ccgan100_mnist, to see how the semi-
supervised gain changes with more labels. Its discriminator, as a classifier, is compared with the
same network trained on those labelled images alone. The 12-pixel hole, the MLP backbone and its
seed settings are the defaults; 25 epochs like the rest of the conditional family.
"""
from gans.configs import ccgan100_mnist


def get_config():
  config = ccgan100_mnist.get_config()
  config.conditional.num_labelled = 1000  # the same experiment with ten times the labels
  return config
