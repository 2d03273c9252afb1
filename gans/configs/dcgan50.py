"""The TensorFlow DCGAN tutorial's DCGAN on MNIST for the tutorial's 50 epochs, with an EMA of G:
results/dcgan50_mnist.

dcgan.py's model and optimiser (the tutorial's: learning rate 1e-4, batch 256), trained for
the tutorial's 50 epochs instead of 10, so that the grids at epochs 1, 10 and 50 compare with the
tutorial's. The EMA of G (decay 0.999, a horizon of about 1,000 of the run's 11,700 steps) changes
no update, so G and D are the tutorial's; evaluate.py scores G (eval.json) and its average
(eval_ema.json). The Fréchet distance of 2,000 samples is recorded once an epoch for fid.png.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/dcgan50.py:fashion_mnist`."""
from gans.configs import dcgan


def get_config(dataset='mnist'):
  config = dcgan.get_config(dataset)
  config.num_epochs = 50
  config.ema_decay = 0.999
  config.eval_every_steps = 234  # one epoch of 234 steps at batch 256
  return config
