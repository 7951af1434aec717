"""Collect concurrent calls into batches: many threads submit, one thread runs each batch.

A gpu worker runs its Celery tasks in threads (``--pool threads``); each task submits its model
calls here and blocks on the futures. The collector thread takes the first waiting item, waits at
most ``max_wait_s`` for more, runs at most ``max_batch`` items in one ``run_batch`` call and hands
each result back to the future of the item it belongs to. ``run_batch`` returns one result per
item, in order, and reports a bad item by returning its exception in that item's place, so one bad
input fails only the call that sent it.

The thread starts on the first submit and is re-created in a forked child (threads do not survive
``fork``), so a collector built before a fork still works after it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

RECENT_BATCHES = 64


@dataclass(frozen=True)
class BatchRecord:
    size: int
    seconds: float
    failed_items: int


class BatchCollector(Generic[T, R]):
    def __init__(
        self,
        run_batch: Callable[[list[T]], Sequence[R | BaseException]],
        *,
        max_batch: int,
        max_wait_s: float,
        name: str = "batch",
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_wait_s < 0:
            raise ValueError("max_wait_s must not be negative")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.name = name
        self._queue: queue.SimpleQueue[tuple[T, Future[R]]] = queue.SimpleQueue()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._thread_pid: int | None = None
        self.recent: deque[BatchRecord] = deque(maxlen=RECENT_BATCHES)
        self.batches_run = 0
        self.items_run = 0

    def submit(self, item: T) -> Future[R]:
        return self.submit_many([item])[0]

    def submit_many(self, items: Sequence[T]) -> list[Future[R]]:
        """Queue items together (they usually land in the same batch); one future per item."""
        self._ensure_thread()
        futures: list[Future[R]] = []
        for item in items:
            future: Future[R] = Future()
            self._queue.put((item, future))
            futures.append(future)
        return futures

    def stats(self) -> dict[str, object]:
        sizes = [record.size for record in self.recent]
        return {
            "max_batch": self.max_batch,
            "max_wait_ms": round(self.max_wait_s * 1000, 1),
            "batches": self.batches_run,
            "items": self.items_run,
            "recent_mean_batch": round(sum(sizes) / len(sizes), 2) if sizes else None,
            "recent_max_batch": max(sizes) if sizes else None,
        }

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._thread is not None and self._thread_pid == pid and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is not None and self._thread_pid == pid and self._thread.is_alive():
                return
            if self._thread_pid is not None and self._thread_pid != pid:
                # Forked: the parent's queued items belong to the parent's futures.
                self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(
                target=self._loop, name=f"{self.name}-collector", daemon=True
            )
            self._thread_pid = pid
            self._thread.start()

    def _collect(self) -> list[tuple[T, Future[R]]]:
        batch = [self._queue.get()]
        deadline = time.monotonic() + self.max_wait_s
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                # Items already queued join at once; the wait applies only to an empty queue.
                batch.append(
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
        return batch

    def _loop(self) -> None:
        while True:
            batch = self._collect()
            live = [
                (item, future) for item, future in batch if future.set_running_or_notify_cancel()
            ]
            if live:
                self._run(live)

    def _run(self, batch: list[tuple[T, Future[R]]]) -> None:
        started = time.monotonic()
        items = [item for item, _ in batch]
        try:
            results = list(self.run_batch(items))
            if len(results) != len(items):
                raise RuntimeError(
                    f"{self.name}: run_batch returned {len(results)} results for {len(items)} items"
                )
        except BaseException as exc:
            logger.exception("%s: batch of %d failed", self.name, len(items))
            results = [exc] * len(items)
        failed = 0
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                failed += 1
                future.set_exception(result)
            else:
                future.set_result(result)
        seconds = time.monotonic() - started
        self.batches_run += 1
        self.items_run += len(items)
        self.recent.append(BatchRecord(len(items), seconds, failed))
        logger.info(
            "%s: ran a batch of %d in %.3fs (%d failed)", self.name, len(items), seconds, failed
        )
