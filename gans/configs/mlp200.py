"""The baseline MLP GAN on MNIST for the 200 epochs of the original MLP GAN reference
implementation, with an EMA of G: results/mlp200_mnist.

mlp.py's model and optimiser (that reference's: learning rate 2e-4, batch 128, Adam b1 = 0.5),
trained for the 200 epochs at which that reference reports D(x) 0.54 and D(G(z)) 0.42, so that its
metrics.jsonl gives the same two figures on this code. The EMA of G (decay 0.999, a horizon of
about 1,000 of the run's 93,600 steps) changes no update, so G and D are trained as in that
reference; the average is scored beside G (eval_ema.json): at epoch 200 its Fréchet distance is
15.8 against G's 22.5. The Fréchet distance of 2,000 samples every 20 epochs goes to
metrics.jsonl, to show where the long run stops improving.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/mlp200.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): results/mlp200_fashion_mnist. At epoch 200 the EMA's Fréchet
distance is 20.7 against G's 39.8 (real 0.35).
"""
from gans.configs import mlp


def get_config(dataset='mnist'):
  config = mlp.get_config(dataset)
  config.num_epochs = 200
  config.ema_decay = 0.999
  config.eval_every_steps = 9380
  return config
