"""R1 (Mescheder et al. 2018) on the fast DCGAN's networks, 10 epochs; MNIST by default, run on
Fashion-MNIST with `--config=gans/configs/r1_dcgan.py:fashion_mnist`.

dcgan_fast.py with the R1 penalty, gamma/2 E||grad_x D(x)||^2 on the real batch, as r1.py adds
it to the MLP GAN, with gamma 10, the reference code's default; everything else (non-saturating
loss, Adam 2e-4, b1 0.5, batch 64, EMA of G, D's batch norm by halves) is the fast DCGAN's. D
keeps its batch norm: in the loss study (results/loss_study_mnist, its STORY.md) every critic
without it, penalised or not, scored 3 to 4 times the base's Fréchet distance at 3,000 steps,
and layer norm did no better, while R1 with batch norm by halves trained as the base did; the
penalty then regularises the gradient of the real half's summed logit, in which each image's
statistics share, rather than each image's alone.
"""
from gans.configs import dcgan_fast


def get_config(dataset='mnist'):
  config = dcgan_fast.get_config(dataset)
  config.penalty = 'r1'
  config.penalty_weight = 10.0  # gamma
  return config
