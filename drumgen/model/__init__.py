"""drumgen's neural networks (drum-SSM generator, drum VAE): the only package importing TensorFlow.

TensorFlow's C++ start-up chatter (INFO and WARNING lines) is silenced unless the user set
``TF_CPP_MIN_LOG_LEVEL`` themselves.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
