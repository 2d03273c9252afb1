"""AC-GAN on the MLP backbone for the 100 epochs of the original AC-GAN reference implementation,
with an EMA of G: results/acgan100_mnist.

acgan.py's model and optimiser (learning rate 2e-4, batch 128, class cross-entropies of
weight 1), trained four times as long, the length of that reference (grids at epochs 5, 30 and 100).
The EMA (decay 0.999, a horizon of about 1,000 of the run's 46,900 steps) changes no update: G
itself is that reference's model and is scored in eval.json, its average in eval_ema.json. The
25-epoch run made by the first release of this code (0.9928 conditional accuracy, by that release's
evaluator) was close to the
evaluator's own accuracy on real images; the longer run and the average aim at the last half per
cent and at the Fréchet distance.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/acgan100.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): results/acgan100_fashion_mnist.
"""
from gans.configs import acgan


def get_config(dataset='mnist'):
  config = acgan.get_config(dataset)
  config.num_epochs = 100
  config.ema_decay = 0.999
  return config
