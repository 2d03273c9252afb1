"""DRAGAN (Kodali et al. 2017): the baseline MLP GAN on MNIST with DRAGAN's penalty, 30 epochs.

Everything but the penalty is mlp.py's (the baseline MLP GAN: non-saturating loss, Adam 2e-4,
b1 0.5, batch 128, 30 epochs), so the two runs differ only by it, as the reference
implementation (github.com/kodalinaveen3/DRAGAN) adds it to a plain non-saturating GAN. The
penalty is the reference's: (||grad D(x^)|| - 1)^2 at x^ = x + a (x_p - x), x_p = x + 0.5 std(x)
U[0, 1) per pixel, a ~ U[0, 1) per image, weighted by its lambda = 10.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/dragan.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): the same settings.
"""
from gans.configs import mlp


def get_config(dataset='mnist'):
  config = mlp.get_config(dataset)
  config.penalty = 'dragan'
  config.penalty_weight = 10.0
  return config
