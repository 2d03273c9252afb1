"""The conditional GAN (Mirza and Osindero 2014) on the fast DCGAN's networks, 10 epochs; MNIST
by default, run on Fashion-MNIST with `--config=gans/configs/cgan_dcgan.py:fashion_mnist`.

cgan.py gives the family (G on z and a one-hot class, D on the image and the class). What
changes, the fast DCGAN's recipe (dcgan_fast.py) in place of the MLP backbone, as for
acgan_dcgan.py, so that the two conditional families compare on one recipe:
- the InfoGAN paper's MNIST networks (`dcgan_fast.train_on_fast_recipe`): dense 1024 in G and D,
  4x4 kernels, ReLU in G, batch norm in D by halves, no dropout, kernels from N(0, 0.02);
- Adam 2e-4, b1 0.5, batch 64, an EMA of G with decay 0.999 and a warm-up;
- the Fréchet distance of 10,000 samples every half epoch (469 steps), for the time to quality.
The MLP cGAN it is compared with is cgan100.py (100 epochs, results/cgan100_*).
"""
from gans.configs import cgan, dcgan_fast


def get_config(dataset='mnist'):
  config = cgan.get_config(dataset)
  dcgan_fast.train_on_fast_recipe(config, 'conditional')
  return config
