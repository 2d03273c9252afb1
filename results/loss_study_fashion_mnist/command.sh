#!/usr/bin/env bash
# The loss and penalty study on Fashion-MNIST: the MNIST study's command and variants
# (loss_study_mnist/command.sh, its setup explained in loss_study_mnist/STORY.md) with
# Fashion-MNIST as the dataset. Run from the repository root.
exec bash results/loss_study_mnist/command.sh fashion_mnist
