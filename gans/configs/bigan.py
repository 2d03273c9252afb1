"""BiGAN / ALI (Donahue et al. 2017; Dumoulin et al. 2017), MLP backbone, on MNIST for 30 epochs.

The baseline MLP GAN's networks and optimiser (mlp.py: widths 256-512-1024 for G, 1024-512-256
for D with dropout 0.3, Adam 2e-4 with b1 0.5, batch 128, the non-saturating loss, 30 epochs), so
the two runs differ by what BiGAN adds: the encoder E (D's widths, no dropout) trained with G, and
D judging (x, z) pairs. The latent has 50 dimensions, the BiGAN paper's for its MNIST model
(normal here, uniform there); its other settings (400 epochs, weight decay, a learning rate
decayed to 0) are not reproduced: the length matches mlp.py for the comparison.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/bigan.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): the same settings.
"""
from gans.configs import default, mlp
from gans.core.families import bigan as family


def get_config(dataset='mnist'):
  config = default.add_family_section(mlp.get_config(dataset), family.BiGANSpec)
  config.model = 'bigan'
  config.latent_dim = 50
  config.num_epochs = 30
  return config
