"""InfoGAN (Chen et al. 2016) on the DCGAN backbone with the paper's MNIST networks, 10 epochs.

infogan.py gives the codes, the information terms and the optimisers (10-way categorical and 2
continuous codes beside 62 noise dimensions; Adam with b1 0.5 at 1e-3 for G and 2e-4 for D;
batch 128). The networks are the fast DCGAN's (`dcgan_fast.set_fast_networks`), which are those
of the paper's appendix and of its reference code (github.com/openai/InfoGAN,
infogan/models/regularized_gan.py, network_type "mnist"):
- G: dense 1024 -> dense 7x7x128 -> 4x4 transposed convolution to 14x14x64 -> 4x4 transposed
  convolution to 28x28x1, batch norm and ReLU after each hidden layer.
- D: 4x4 stride-2 convolutions of 64 and 128 maps -> dense 1024, LeakyReLU 0.2, batch norm after
  the second convolution and the dense layer, no dropout.
- The reference calls D on the reals and on the fakes apart, so its batch norm normalises each
  alone: here D's joint batch is normalised by halves (`dcgan.discriminator_batch_norm_halves`;
  normalised together, this D stalled in results/dcgan_study).
- Q is D's last layer, on D's 1024 features (the reference puts one more dense layer of 128
  under Q alone: `--config.dcgan.discriminator_head_width=128`). Kernels from N(0, 0.02), as
  in the DCGAN recipes of this code.
10 epochs at batch 128 are 4,680 steps; the reference trained 5,000. At 10 epochs the code matches
the classes with accuracy 0.880 (results/infogan_dcgan_mnist; the MLP InfoGAN: 0.571), at 20
epochs (`--config.num_epochs=20`, results/infogan_dcgan20_mnist) 0.8998: of its ten values only
the two shared by the 4s and the 9s draw a mixture.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/infogan_dcgan.py:fashion_mnist`.
"""
from gans.configs import dcgan_fast, infogan


def get_config(dataset='mnist'):
  config = infogan.get_config(dataset)
  config.infogan.backbone = 'dcgan'
  dcgan_fast.set_fast_networks(config.dcgan)
  config.num_epochs = 10
  return config
