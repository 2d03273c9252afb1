"""InfoGAN (Chen et al. 2016), MLP backbone, on MNIST for 25 epochs.

The reference code's MNIST experiment (github.com/openai/InfoGAN, launchers/run_mnist_exp.py):
a 10-way categorical code and 2 continuous codes U[-1, 1] beside 62 noise dimensions
(latent_dim = 64: the continuous codes are the first two entries of z put through
erf(z / sqrt 2); the noise is normal here as everywhere in this code, uniform there), both
information terms weighted 1 with a unit-variance Gaussian for the continuous codes, and its
two learning rates: Adam with b1 = 0.5 at 1e-3 for G and 2e-4 for D (`d_learning_rate`, a two
time-scale update rule), batch 128. The networks are the baseline MLP GAN's (its widths and D's
dropout; Q is D's last layer), this family's default backbone, rather than the reference's
convolutional ones (`--config.infogan.backbone=dcgan` for the DCGAN). 25 epochs, the conditional
family's length, so that its code's accuracy compares with their conditional accuracy (the
reference trained 5,000 steps, about 11 epochs).

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/infogan.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): the same settings.
"""
from gans.configs import default
from gans.core.families import infogan as family


def get_config(dataset='mnist'):
  config = default.add_family_section(default.get_config(), family.InfoGANSpec)
  config.model = 'infogan'
  config.dataset = dataset
  config.infogan.backbone = 'mlp'
  config.infogan.categories = 10
  config.infogan.continuous = 2
  config.infogan.categorical_weight = 1.0
  config.infogan.continuous_weight = 1.0
  config.latent_dim = 64  # 62 noise + 2 continuous codes
  config.learning_rate = 1e-3  # G
  config.d_learning_rate = 2e-4
  config.b1 = 0.5
  config.batch_size = 128
  config.num_epochs = 25
  return config
