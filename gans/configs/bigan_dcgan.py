"""BiGAN / ALI (Donahue et al. 2017; Dumoulin et al. 2017) on the fast DCGAN's networks, 10
epochs; MNIST by default, run on Fashion-MNIST with `--config=gans/configs/bigan_dcgan.py:
fashion_mnist`.

bigan.py gives the family on the MLP backbone (a 50-dimensional latent, the BiGAN paper's for
MNIST; the non-saturating loss). What changes, the fast DCGAN's recipe (dcgan_fast.py), because
convolutional networks are what the two papers trained on images and that recipe is the fastest
to a good Fréchet distance among this code's DCGANs:
- the InfoGAN paper's MNIST networks (`dcgan_fast.train_on_fast_recipe`): dense 1024 in G and D,
  4x4 kernels, ReLU in G, batch norm in D by halves, no dropout, kernels from N(0, 0.02);
- E is D's convolutions and dense 1024 without batch norm, to the 50 entries of z; D appends z
  to the features of its convolutions, and its dense layer of 1024 judges the two together (the
  papers' joint discriminator), batch-normalised by halves, so a real pair's logit depends on
  no fake;
- Adam 2e-4, b1 0.5, batch 64, an EMA of G (and E) with decay 0.999 and a warm-up;
- the Fréchet distance of 10,000 samples every half epoch (469 steps), for the time to quality.
E's network makes a step 1.35x the fast DCGAN's floating-point work; at batch 64 on a 2-core CPU
it took 1.3-1.4x the fast DCGAN's time (`python -m gans.benchmarks.step --config=FILE`).
"""
from gans.configs import bigan, dcgan_fast, default
from gans.core.families import bigan as family


def get_config(dataset='mnist'):
  config = default.add_family_section(bigan.get_config(dataset), family.BiGANSpec)
  dcgan_fast.train_on_fast_recipe(config, 'bigan')
  return config
