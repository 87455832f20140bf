"""drumgen: structured drum tracks for MIDI songs (VAE + self-similarity matrices).

This module stays light: it never imports TensorFlow or matplotlib.
"""

__version__ = "0.1.0"
