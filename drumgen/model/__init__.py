"""drumgen's neural networks (drum-SSM generator, drum VAE): the only package importing TensorFlow."""
