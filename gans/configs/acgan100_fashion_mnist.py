"""acgan100_mnist.py on Fashion-MNIST (100 epochs, EMA of G): results/acgan100_fashion_mnist."""
from gans.configs import acgan100_mnist


def get_config():
  config = acgan100_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
