"""The one percentile formula (reviews.sla.stats): nearest rank."""

import pytest

from reviews.sla.stats import median_and_p90, percentile


def test_nearest_rank_percentile() -> None:
    assert percentile(range(1, 11), 0.9) == 9
    assert percentile(range(1, 101), 0.9) == 90
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([], 0.9) is None
    assert median_and_p90([3, 1, 2, 4]) == (2.5, 4)
    assert median_and_p90([]) == (None, None)
    with pytest.raises(ValueError):
        percentile([1], 0)
