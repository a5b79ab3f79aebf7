"""The 64-bit mixer every vectorised hash in dedup/ is built on."""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's output function (Steele et al. 2014) on a uint64 array: a
    bijection whose every output bit depends on every input bit, so structured
    inputs (code points, sums, chained values) come out as independent-looking
    64-bit hashes."""
    x = x + GOLDEN
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))
