"""torch_threads: the learner's thread count holds inside the block, the caller's is restored after it."""

import pytest
import torch

from tradeoff_gym.learners.threads import torch_threads


@pytest.fixture
def caller_threads():
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def test_the_count_holds_inside_and_is_restored_after(caller_threads):
    caller_threads(2)
    with torch_threads(1):
        assert torch.get_num_threads() == 1
        with torch_threads(1):  # nested, same count: nothing to switch
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with pytest.raises(KeyError), torch_threads(1):
        raise KeyError("restored on errors too")
    assert torch.get_num_threads() == 2


def test_it_never_calls_set_num_threads_when_the_count_already_matches(caller_threads, monkeypatch):
    caller_threads(1)
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    with torch_threads(1):
        pass
    assert calls == []
