"""DRAGAN: the seed MLP GAN with DRAGAN's penalty (lambda = 10), on Fashion-MNIST for 30 epochs.

The settings of dragan_mnist.py on the other dataset, so it compares with mlp_fashion_mnist.py.
"""
from gans.configs import dragan_mnist


def get_config():
  config = dragan_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
