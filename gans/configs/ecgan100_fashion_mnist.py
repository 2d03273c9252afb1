"""ecgan100_mnist.py on Fashion-MNIST (100 epochs, EMA of G); not run yet: results/lengths.md."""
from gans.configs import ecgan100_mnist


def get_config():
  config = ecgan100_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
