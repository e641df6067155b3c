"""Property values as files give them: the one test of "no value here"."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def is_missing(v: Any, *, blank: bool = False) -> bool:
    """Whether ``v`` stands for no value: None, NaN (any float type), ``pd.NA`` or ``NaT``.

    Parameters
    ----------
    v
        A single property value (not a list or array).
    blank
        Also count a string of nothing but white space as missing (as validation does).

    Returns
    -------
    bool

    Examples
    --------
    >>> [is_missing(x) for x in (None, float("nan"), pd.NA, pd.NaT, 0, "", "  ")]
    [True, True, True, True, False, False, False]
    >>> is_missing("  ", blank=True)
    True
    """
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(float(v))
    return blank and isinstance(v, str) and not v.strip()
