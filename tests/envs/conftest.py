"""Fixtures of the environment tests."""

from collections.abc import Callable, Iterator

import pytest
import torch


@pytest.fixture
def caller_threads() -> Iterator[Callable[[int], None]]:
    """``torch.set_num_threads`` for the test's own (caller) setting; the previous count is restored after it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)
