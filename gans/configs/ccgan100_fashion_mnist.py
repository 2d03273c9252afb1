"""CC-GAN, 100 labels, on Fashion-MNIST for 25 epochs: results/first_version/ccgan100_fashion_mnist.

100 labelled train images (10 per class): the semi-supervised setting where labels are scarce. Its
discriminator, as a classifier, is compared with the same network trained on those labelled images
alone. The 12-pixel hole, the MLP backbone and its seed settings are the defaults; 25 epochs like
the rest of the conditional family.
"""
from gans.configs import ccgan100_mnist


def get_config():
  config = ccgan100_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
