"""AC-GAN, MLP backbone, on MNIST for 25 epochs.

The run of the first version: results/first_version/acgan_mnist. The backbone's seed settings
(`conditional.backbone = 'mlp'`, the default: learning rate 2e-4, batch 128); every member of the
conditional family trains the same 25 epochs, so their rows in results/first_version/REPORT.md
compare at one length. The class cross-entropies keep their default weight, 1.
"""
from gans.configs import default


def get_config():
  config = default.get_config()
  config.model = 'acgan'
  config.dataset = 'mnist'
  config.num_epochs = 25
  return config
