#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The reservation a perfect profile forecaster would need on tidal-sim's synthetic noise.

A class of [synthetic] is size x daily x weekly x trend x exp(ar), ar an AR(1) process
(innovations `noise`, correlation `noise_corr` per step). A forecaster that knew everything
but ar would book, for an hour block, the quantile q of max(exp(ar)) over the block's steps;
the oracle books the realised peak, on average E[max(exp(ar))]. Their ratio is the least
bit-hours ratio proactive/oracle any forecast can reach at quantile q (bursts ignored).

    tests/bench/sim/noise_bound.py [NOISE=0.18] [CORR=0.5] [STEPS_PER_BLOCK=4] [BLOCKS=200000]
"""
import math
import random
import sys

noise = float(sys.argv[1]) if len(sys.argv) > 1 else 0.18
corr = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 4
blocks = int(sys.argv[4]) if len(sys.argv) > 4 else 200000

rng = random.Random(1)
ar = rng.gauss(0, noise / math.sqrt(1 - corr * corr))  # start in the stationary law
peaks = []
for _ in range(blocks):
    m = 0.0
    for _ in range(steps):
        ar = corr * ar + rng.gauss(0, noise)
        m = max(m, math.exp(ar))
    peaks.append(m)
peaks.sort()
mean = sum(peaks) / len(peaks)
print("noise %.3f, correlation %.2f, %d steps a block, %d blocks" % (noise, corr, steps, blocks))
for q in (0.8, 0.9, 0.95, 0.99):
    print("p%g of the block peak / expected peak: %.3f" % (q * 100, peaks[int(q * len(peaks))] / mean))
