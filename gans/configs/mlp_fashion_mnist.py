"""The seed MLP GAN on Fashion-MNIST for 30 epochs: results/mlp_fashion_mnist.

Every setting but the length is the seed's: `model = 'mlp'` brings its learning rate 2e-4 and batch
128 (Adam, b1 = 0.5); 30 epochs instead of the default 50 kept the run short on a CPU.
"""
from gans.configs import default


def get_config():
  config = default.get_config()
  config.model = 'mlp'
  config.dataset = 'fashion_mnist'
  config.num_epochs = 30
  return config
