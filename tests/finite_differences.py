"""Central differences of a float64 numpy reference: the derivatives that library code is checked against."""

from __future__ import annotations

import numpy as np


def central_differences(ref, x, g, dx, h: float = 1e-6):
    """(gradient of sum(ref(x) * g) w.r.t. x, tangent of ref at x along dx), both by central
    differences with step ``h``; ``ref`` maps a float64 array like ``x`` to an array like ``g``."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        grad[idx] = ((ref(x + e) - ref(x - e)) * g).sum() / (2 * h)
    return grad, (ref(x + h * dx) - ref(x - h * dx)) / (2 * h)
