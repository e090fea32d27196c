from __future__ import annotations

import numpy as np
import pytest

from calibration.metrics import accuracy
from hwsim.errors import HwnasError


def test_known_values() -> None:
    m = np.array([1.0, 2.0, 4.0, 8.0])
    p = np.array([1.04, 2.3, 4.0, 7.0])  # rel errors 4%, 15%, 0%, 12.5%
    r = accuracy(p, m, n_train=3)
    assert r.mape == pytest.approx(100 * (0.04 + 0.15 + 0 + 0.125) / 4)
    assert r.within_5pct == 0.5 and r.within_10pct == 0.5
    assert r.rmse_ms == pytest.approx(np.sqrt((0.04**2 + 0.3**2 + 0 + 1.0) / 4))
    assert r.spearman == pytest.approx(1.0) and r.kendall == pytest.approx(1.0)
    assert (r.n_train, r.n_test) == (3, 4)
    assert set(r.to_dict()) == {"spearman", "kendall", "mape", "rmse_ms", "within_5pct", "within_10pct", "n_train",
                                "n_test"}


def test_rank_reversal() -> None:
    r = accuracy([3.0, 2.0, 1.0], [1.0, 2.0, 3.0])
    assert r.spearman == pytest.approx(-1.0) and r.kendall == pytest.approx(-1.0)


def test_bad_inputs() -> None:
    with pytest.raises(HwnasError):
        accuracy([1.0], [0.0])
    with pytest.raises(HwnasError):
        accuracy([1.0, 2.0], [1.0])

