"""Experiments of the original works, each a command-line program: the augmentation experiment
(training a classifier on real images plus a conditional generator's samples) and the PPCA sweep
over latent sizes. They build on the tools' conventions (`gans.tools.cli`)."""
