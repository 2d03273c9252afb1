"""Spectral normalisation (Miyato et al. 2018), an option of every backbone's discriminator.

Each weight matrix (a convolution kernel as its (kh * kw * in, out) matrix) is divided by its
largest singular value, estimated by one power iteration per call (flax's nn.SpectralNorm) from
a vector u kept in the 'batch_stats' collection. In training mode the new u (and sigma) are
written back; the shared step keeps that collection as it keeps BatchNorm's statistics, so
checkpoints hold it and a resumed run continues the same iteration. In inference mode u is
only read. Biases are not normalised.
"""
import flax.linen as nn


def layer(module: nn.Module, x, *, train: bool, spectral_norm: bool):
  """module(x), spectrally normalised when `spectral_norm`; call inside a compact method, so
  the module keeps the name it has without normalisation (the parameter tree is the same)."""
  if not spectral_norm:
    return module(x)
  return nn.SpectralNorm(module)(x, update_stats=train)
