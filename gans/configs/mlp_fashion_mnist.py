"""The seed MLP GAN on Fashion-MNIST for 30 epochs: results/mlp_fashion_mnist.

Every setting but the length is the seed's: `model = 'mlp'` brings its learning rate 2e-4 and batch
128 (Adam, b1 = 0.5); 30 epochs instead of the default 50 kept the run short on a CPU.
"""
from gans.configs import mlp_mnist


def get_config():
  config = mlp_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
