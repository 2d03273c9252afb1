"""cgan100_mnist.py on Fashion-MNIST (100 epochs, EMA of G); not run yet: results/lengths.md."""
from gans.configs import cgan100_mnist


def get_config():
  config = cgan100_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
