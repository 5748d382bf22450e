"""The retention choice the demo and the run registry share: all but the newest N, never a protected one."""

from esdh.retention import all_but_newest


def test_all_but_the_newest_n_oldest_first() -> None:
    assert all_but_newest([1, 2, 3, 4, 5], 2) == [1, 2, 3]
    assert all_but_newest([1, 2], 5) == []
    assert all_but_newest([1, 2, 3], 0) == [1, 2, 3]


def test_a_protected_item_is_kept_and_not_counted() -> None:
    assert all_but_newest([1, 2, 3, 4, 5], 2, lambda item: item == 2) == [1, 3]
    assert all_but_newest([1, 2, 3, 4, 5], 2, lambda item: item == 5) == [1, 2, 3]
