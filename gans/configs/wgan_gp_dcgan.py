"""WGAN-GP (Gulrajani et al. 2017) on the fast DCGAN's networks; MNIST by default, run on
Fashion-MNIST with `--config=gans/configs/wgan_gp_dcgan.py:fashion_mnist`.

What changes from dcgan_fast.py, each as the paper and its MNIST code
(github.com/igul222/improved_wgan_training, gan_mnist.py) have it:
- the Wasserstein loss with the gradient penalty, lambda 10, on the norm of the critic's gradient
  at random points between real and fake images;
- a critic with layer norm in place of batch norm: the penalty is on each sample's gradient,
  which batch norm would make depend on the rest of the batch, and the paper recommends layer
  norm in its place;
- Adam 1e-4, b1 0.5, b2 0.9, five critic updates per generator update (n_critic 5);
- 50 epochs: an epoch is 937 critic batches, 187 generator updates at n_critic 5, so 50 epochs
  give G the 9,370 updates of the fast DCGAN's 10 epochs and the critic five times its work;
- the Fréchet distance of 10,000 samples every 2,345 steps, half of 937 generator updates.
Its cells of the loss study (3,000 generator steps, "WGAN-GP, LN"): results/loss_study_mnist.
"""
from gans.configs import dcgan_fast

N_CRITIC = 5


def get_config(dataset='mnist'):
  config = dcgan_fast.get_config(dataset)
  config.loss = 'wasserstein_gp'
  config.gradient_penalty_weight = 10.0
  dcgan_fast.drop_discriminator_batch_norm(config.dcgan)
  config.dcgan.discriminator_layer_norm = True
  config.learning_rate = 1e-4
  config.b1 = 0.5
  config.b2 = 0.9
  slow_critic(config, N_CRITIC)
  return config


def slow_critic(config, n_critic):
  """n_critic critic updates per generator update at the fast DCGAN's generator budget: the
  epochs and the steps between evaluations scaled by n_critic (a step is a critic update)."""
  fast = dcgan_fast.get_config(config.dataset)
  config.n_critic = n_critic
  config.num_epochs = fast.num_epochs * n_critic
  config.eval_every_steps = fast.eval_every_steps * n_critic
