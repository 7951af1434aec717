"""The batch collector: concurrent submits meet in bounded batches, answers go back to the right
caller in order, and a bad item fails only its own caller."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Sequence

import pytest

from ml.serving.batching import BatchCollector


class Recorder:
    """A run_batch that records each batch and doubles numbers; negative numbers are bad input."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.delay_s = delay_s

    def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.batches.append(list(items))
        time.sleep(self.delay_s)
        return [ValueError(f"bad item {item}") if item < 0 else item * 2 for item in items]


def test_answers_come_back_in_order_and_batches_are_bounded() -> None:
    recorder = Recorder()
    collector = BatchCollector(recorder, max_batch=4, max_wait_s=0.05)

    futures = collector.submit_many(list(range(10)))

    assert [future.result(timeout=5) for future in futures] == [n * 2 for n in range(10)]
    assert [len(batch) for batch in recorder.batches] == [4, 4, 2]
    assert [n for batch in recorder.batches for n in batch] == list(range(10))
    assert collector.stats()["batches"] == 3 and collector.stats()["items"] == 10


def test_concurrent_callers_share_one_batch() -> None:
    recorder = Recorder()
    collector = BatchCollector(recorder, max_batch=8, max_wait_s=0.5)
    barrier = threading.Barrier(5)
    answers: dict[int, int] = {}

    def caller(number: int) -> None:
        barrier.wait()
        answers[number] = collector.submit(number).result(timeout=5)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == {n: n * 2 for n in range(5)}
    assert len(recorder.batches) == 1 and sorted(recorder.batches[0]) == list(range(5))


def test_a_lone_item_waits_at_most_the_bounded_wait() -> None:
    recorder = Recorder()
    collector = BatchCollector(recorder, max_batch=32, max_wait_s=0.2)

    started = time.monotonic()
    assert collector.submit(3).result(timeout=5) == 6
    elapsed = time.monotonic() - started

    assert 0.15 <= elapsed < 1.5
    assert recorder.batches == [[3]]


def test_a_full_batch_does_not_wait() -> None:
    recorder = Recorder()
    collector = BatchCollector(recorder, max_batch=3, max_wait_s=10)

    started = time.monotonic()
    futures = collector.submit_many([1, 2, 3])
    assert [f.result(timeout=5) for f in futures] == [2, 4, 6]

    assert time.monotonic() - started < 2


def test_a_bad_item_fails_only_its_caller() -> None:
    recorder = Recorder()
    collector = BatchCollector(recorder, max_batch=8, max_wait_s=0.05)

    good, bad, other = collector.submit_many([1, -1, 2])

    assert good.result(timeout=5) == 2 and other.result(timeout=5) == 4
    with pytest.raises(ValueError, match="bad item -1"):
        bad.result(timeout=5)
    assert len(recorder.batches) == 1


def test_a_crashing_batch_fails_its_callers_and_the_collector_carries_on() -> None:
    calls = []

    def run(items: list[int]) -> list[int]:
        calls.append(items)
        if len(calls) == 1:
            raise RuntimeError("device lost")
        return items

    collector = BatchCollector(run, max_batch=4, max_wait_s=0.01)

    first = collector.submit_many([1, 2])
    for future in first:
        with pytest.raises(RuntimeError, match="device lost"):
            future.result(timeout=5)
    assert collector.submit(7).result(timeout=5) == 7


def test_a_wrong_number_of_results_is_an_error_not_a_misdelivery() -> None:
    collector = BatchCollector(lambda items: items[:-1], max_batch=4, max_wait_s=0.01)

    futures = collector.submit_many([1, 2])

    for future in futures:
        with pytest.raises(RuntimeError, match="1 results for 2 items"):
            future.result(timeout=5)


def test_items_queued_while_a_batch_runs_form_the_next_batch() -> None:
    recorder = Recorder(delay_s=0.3)
    collector = BatchCollector(recorder, max_batch=8, max_wait_s=0.0)

    first = collector.submit(1)
    time.sleep(0.1)  # the first batch is running
    rest = collector.submit_many([2, 3, 4])

    assert first.result(timeout=5) == 2
    assert [f.result(timeout=5) for f in rest] == [4, 6, 8]
    assert recorder.batches == [[1], [2, 3, 4]]


def _child_uses_collector(collector: BatchCollector[int, int], out: multiprocessing.Queue) -> None:
    out.put(collector.submit(21).result(timeout=5))


def test_a_collector_used_before_fork_works_in_the_child() -> None:
    collector = BatchCollector(Recorder(), max_batch=2, max_wait_s=0.01)
    assert collector.submit(1).result(timeout=5) == 2  # the parent's thread is running

    context = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = context.Queue()
    child = context.Process(target=_child_uses_collector, args=(collector, out))
    child.start()
    child.join(timeout=20)

    assert child.exitcode == 0
    assert out.get(timeout=1) == 42


@pytest.mark.parametrize(("max_batch", "max_wait_s"), [(0, 0.1), (2, -1)])
def test_bounds_are_checked(max_batch: int, max_wait_s: float) -> None:
    with pytest.raises(ValueError):
        BatchCollector(Recorder(), max_batch=max_batch, max_wait_s=max_wait_s)
