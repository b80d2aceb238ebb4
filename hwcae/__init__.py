"""hwcae: a hardware-oriented fixed-point toolkit for the deep compressive autoencoder
(Wu et al., J. Neural Eng. 2018) that compresses neural action potentials.

The sub-packages follow the data flow:
spikes -> model -> quantize -> export -> verify -> cost -> codec -> evaluate.
"""

__version__ = "0.1.0"

#: Samples per spike snippet and channels per snippet: the model's input word.
N_CHANNELS = 4
N_SAMPLES = 64
#: Bits of one raw sample as the recorder digitises it (the compression ratio's numerator).
RAW_BITS_PER_SAMPLE = 16
RAW_BITS_PER_SPIKE = N_CHANNELS * N_SAMPLES * RAW_BITS_PER_SAMPLE  # 4096 bits
