"""CC-GAN, 1000 labels, on Fashion-MNIST for 25 epochs.

The run of the first version: results/first_version/ccgan1000_fashion_mnist. 1000 labelled train
images (100 per class), ten times those of ccgan100_fashion_mnist, to see how the semi-supervised
gain changes with more labels. Its discriminator, as a classifier, is compared with the same network
trained on those labelled images alone. The 12-pixel hole, the MLP backbone and its seed settings
are the defaults; 25 epochs like the rest of the conditional family.
"""
from gans.configs import ccgan1000_mnist


def get_config():
  config = ccgan1000_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
