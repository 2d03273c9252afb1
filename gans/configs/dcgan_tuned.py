"""The DCGAN recipe on MNIST: the DCGAN paper's optimiser, a narrower generator and an EMA of G,
20 epochs: results/dcgan_tuned_mnist.

What changes from dcgan.py (the TensorFlow tutorial's DCGAN and its settings) and why:
- Adam at 2e-4 with batch 64 instead of 1e-4 with batch 256 (Radford et al. 2016 use 2e-4,
  b1 = 0.5): four times the updates per epoch at twice the step size, for the tutorial settings'
  slow start (results/dcgan50_mnist still draws scrawls at epoch 10).
- Generator maps of 128 -> 64 -> 32 instead of 256 -> 128 -> 64: a 28x28 digit needs no more, and
  the whole train step is 1.6-1.8x faster at batch 64 (250 and 305 ms against 441 and 498 ms,
  two alternated runs of gans.benchmarks.step on one CPU core), which pays for the 20 epochs.
  D keeps the tutorial's 64 -> 128 convolutions and dropout.
- An EMA of G's variables with decay 0.999 (an averaging horizon of about 1,000 of the run's
  18,740 steps): evaluate.py scores both G (eval.json) and its EMA (eval_ema.json). In a run much
  shorter than a few horizons the average still weighs the first generators and lags behind G.
The Fréchet distance of 2,000 samples is recorded three times an epoch for fid.png. At 20 epochs
this recipe is not yet the best unconditional model (results/README.md).

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/dcgan_tuned.py:fashion_mnist`."""
from gans.configs import default


def get_config(dataset='mnist'):
  config = default.get_config()
  config.model = 'dcgan'
  config.dataset = dataset
  config.num_epochs = 20
  config.batch_size = 64
  config.learning_rate = 2e-4
  config.dcgan.generator_features = (128, 64, 32)
  config.ema_decay = 0.999
  config.eval_every_steps = 312  # a third of the 937 steps of an epoch at batch 64
  return config
