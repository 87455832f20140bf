"""drumgen's neural networks (drum-SSM generator, drum VAE): the only package importing TensorFlow.

Both networks are split the same way: the network, its inputs' constants and loading
(``ssm_generator`` / ``vae``, with ``data`` for the VAE's inputs), training
(``train_ssm_generator`` / ``train_vae``), and prediction (``ssm_generator.predict_drum_ssm`` /
``generate``).

TensorFlow's C++ start-up chatter (INFO and WARNING lines) is silenced unless the user set
``TF_CPP_MIN_LOG_LEVEL`` themselves.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
