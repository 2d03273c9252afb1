"""WGAN with weight clipping (Arjovsky et al. 2017) on the fast DCGAN's networks; MNIST by
default, run on Fashion-MNIST with `--config=gans/configs/wgan_dcgan.py:fashion_mnist`.

What changes from dcgan_fast.py, each as the paper and its reference code
(github.com/martinarjovsky/WassersteinGAN) have it:
- the Wasserstein loss, the critic's weights clipped to [-0.01, 0.01] after every update;
- RMSprop 5e-5 (decay 0.99, PyTorch's default, here `b2`), five critic updates per generator
  update; the reference's bursts of 100 critic updates are not reproduced;
- the critic keeps the fast networks' batch norm by halves, as the reference's DCGAN critic keeps
  its batch norm: clipping constrains weights, not each sample's gradient;
- 50 epochs, so that G gets the 9,370 updates of the fast DCGAN's 10 epochs
  (`wgan_gp_dcgan.slow_critic`), and the Fréchet distance every 2,345 steps.
Its cell of the loss study (3,000 generator steps, both seeds): results/loss_study_mnist.
"""
from gans.configs import dcgan_fast, wgan_gp_dcgan


def get_config(dataset='mnist'):
  config = dcgan_fast.get_config(dataset)
  config.loss = 'wasserstein_clip'
  config.clip_value = 0.01
  config.optimizer = 'rmsprop'
  config.learning_rate = 5e-5
  config.b2 = 0.99  # RMSprop's decay (PyTorch's alpha)
  wgan_gp_dcgan.slow_critic(config, wgan_gp_dcgan.N_CRITIC)
  return config
