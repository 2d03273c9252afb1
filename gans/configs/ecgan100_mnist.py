"""E-cGAN (IcGAN) on the MLP backbone for 100 epochs, with an EMA of G: results/ecgan100_mnist.

ecgan_mnist.py's model, encoders and optimiser (the backbone's seed settings: learning rate 2e-4,
batch 128), trained four times as long, the length the seeds ask of the conditional family. The
EMA (decay 0.999, a horizon of about 1,000 of the run's 46,800 steps) changes no update: G itself
is the seed's model and is scored in eval.json, its average in eval_ema.json. The encoders E_z and
E_y train on G's samples beside it, as in the 25-epoch run of results/first_version/ecgan_mnist.
"""
from gans.configs import ecgan_mnist


def get_config():
  config = ecgan_mnist.get_config()
  config.num_epochs = 100
  config.ema_decay = 0.999
  return config
