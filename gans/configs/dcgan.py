"""The TensorFlow DCGAN tutorial's DCGAN on MNIST for 10 epochs.

The same model and optimiser at the tutorial's 50 epochs: results/dcgan50_mnist (dcgan50.py).

The tutorial's settings (its DCGAN; `model = 'dcgan'` brings learning rate 1e-4
and batch 256) for 10 epochs instead of the tutorial's 50, what a 2-core CPU allowed; the Fréchet
distance and classifier score are recorded three times an epoch for the curve in fid.png.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/dcgan.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): results/first_version/dcgan_fashion_mnist (made by the
first release of this code), the same 10 epochs.
"""
from gans.configs import default


def get_config(dataset='mnist'):
  config = default.get_config()
  config.model = 'dcgan'
  config.dataset = dataset
  config.num_epochs = 10
  config.eval_every_steps = 78  # a third of the 234 steps of an epoch at batch 256
  config.steps_per_call = 2  # as the run was made: two steps per dispatch, same updates as 1
  return config
