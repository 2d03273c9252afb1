"""Flax linen networks: the MLP and DCGAN backbones, the conditional wrappers, PPCA's sampler and
the evaluator's LeNet; the discriminators' optional spectral normalisation."""
