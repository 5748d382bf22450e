"""The population stability index of two binned distributions."""

from __future__ import annotations

import numpy as np

PSI_FLOOR = 1e-4  # share given to an empty bin (Evidently's floor) so that PSI stays finite


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI of two count vectors over the same bins."""
    ref = np.maximum(reference / max(reference.sum(), 1), PSI_FLOOR)
    cur = np.maximum(current / max(current.sum(), 1), PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))
