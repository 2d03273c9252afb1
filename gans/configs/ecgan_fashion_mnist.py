"""E-cGAN, MLP backbone, on Fashion-MNIST for 25 epochs.

The run of the first version: results/first_version/ecgan_fashion_mnist. The backbone's seed
settings (`conditional.backbone = 'mlp'`, the default: learning rate 2e-4, batch 128); every member
of the conditional family trains the same 25 epochs, so their rows in
results/first_version/REPORT.md compare at one length. The cGAN trains beside its image encoders E_z
and E_y (IcGAN), which the evaluation uses for reconstruction and label swap.
"""
from gans.configs import ecgan_mnist


def get_config():
  config = ecgan_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
