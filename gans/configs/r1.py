"""R1 (Mescheder et al. 2018): the baseline MLP GAN on MNIST with the R1 penalty, 30 epochs.

Everything but the penalty is mlp.py's (the baseline MLP GAN: non-saturating loss, Adam 2e-4,
b1 0.5, batch 128, 30 epochs), so the two runs differ only by it; the paper regularises the
same non-saturating loss. The penalty is gamma/2 E||grad_x D(x)||^2 on the real batch (D's
logit) with gamma = 10, the default reg_param of the reference code
(github.com/LMescheder/GAN_stability, configs/default.yaml); that code multiplies E||grad D||^2
by reg_param without the 1/2, so its pull is twice this one.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/r1.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): the same settings.
"""
from gans.configs import mlp


def get_config(dataset='mnist'):
  config = mlp.get_config(dataset)
  config.penalty = 'r1'
  config.penalty_weight = 10.0  # gamma
  return config
