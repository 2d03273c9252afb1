#!/usr/bin/env bash
# The loss and penalty study: every variant of seed 0, then of seed 1, on the dataset given as the
# argument (MNIST by default; loss_study_fashion_mnist/command.sh passes fashion_mnist); a rerun
# skips the finished cells of results/loss_study_<dataset>/cells.jsonl. Run from the repository
# root.
set -euo pipefail
DATASET=${1:-mnist}
NO_BN='dcgan.discriminator_batch_norm=False;dcgan.discriminator_batch_norm_halves=False'
LN="$NO_BN;dcgan.discriminator_layer_norm=True"
for seed in 0 1; do
  python -m gans.tools.sweep --config=gans/configs/dcgan_fast.py:$DATASET \
    --output_dir=results/loss_study_$DATASET --seeds=$seed --steps=3000 --eval_every=500 \
    --variant='non-saturating' \
    --variant='minimax;loss=minimax' \
    --variant='least squares;loss=least_squares' \
    --variant='hinge;loss=hinge' \
    --variant="DRAGAN;penalty=dragan;penalty_weight=10.0;$NO_BN" \
    --variant="R1 gamma 1;penalty=r1;penalty_weight=1.0;$NO_BN" \
    --variant="non-saturating, no BN in D;$NO_BN" \
    --variant="SN, hinge;spectral_norm=True;loss=hinge;$NO_BN" \
    --variant="non-saturating, LN in D;$LN" \
    --variant="R1 gamma 10, BN halves;penalty=r1;penalty_weight=10.0" \
    --variant="DRAGAN, BN halves;penalty=dragan;penalty_weight=10.0" \
    --variant="WGAN-GP, LN;loss=wasserstein_gp;n_critic=5;learning_rate=1e-4;b1=0.5;b2=0.9;$LN" \
    --variant='WGAN clip;loss=wasserstein_clip;n_critic=5;optimizer=rmsprop;learning_rate=5e-5;b2=0.99'
done
