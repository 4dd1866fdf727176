"""Where batch tasks run: the embedded local process pool, or a Dask cluster.

Both run the same pure task (``pipeline.prove_batch``: inputs in, the batch's three files
out, written atomically by whoever runs it, ``batch.json`` last) and offer the same calls,
so the pipeline does not know which one it drives:

* ``submit(fn, task)`` -> a future; ``wait_first(futures)`` -> the finished ones (at least
  one); ``result(future)`` -> the task's value, or its exception raised here;
* ``capacity``: how many tasks may be in flight (twice the worker threads), so the
  snapshot streams through in bounded memory.

**Local** (:class:`LocalPool`): spawned worker processes that die with their parent
(Linux ``PR_SET_PDEATHSIG``), so a killed ``zkmargin prove`` leaves no orphan.

**Dask** (:class:`DaskCluster`, ``--scheduler tcp://HOST:8786``): the tasks run on the
cluster's workers. Every worker must see the artifact directory and zkmargin's cache at
the same paths as the client (a shared filesystem, or one machine): a worker writes the
batch's files itself, so a finished batch is durable even if the client dies; a worker
that dies has its tasks re-run elsewhere by the scheduler; each worker process loads the
proving key once (the backends cache it per process).
"""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from types import TracebackType
from typing import Any, Protocol

from zkmargin.errors import ZkMarginError

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere): worker
    processes and the tools they run never outlive a killed ``zkmargin prove``."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Executor(Protocol):
    capacity: int

    def submit(self, fn: Callable[[Any], Any], task: Any) -> Any: ...

    def wait_first(self, futures: Collection[Any]) -> set[Any]: ...

    def result(self, future: Any) -> Any: ...

    def stop(self) -> None:
        """Stop every running task now (an interruption): nothing lands afterwards."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class LocalPool:
    """The embedded executor: spawned worker processes on this machine."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.capacity = 2 * self.workers
        self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                         mp_context=get_context("spawn"),
                                         initializer=die_with_parent)

    def submit(self, fn: Callable[[Any], Any], task: Any) -> Future[Any]:
        return self._pool.submit(fn, task)

    def wait_first(self, futures: Collection[Any]) -> set[Any]:
        done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
        return set(done)

    def result(self, future: Any) -> Any:
        return future.result()

    def stop(self) -> None:
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.kill()  # and its tools with it (they die with their parent)
        for proc in processes:
            proc.join(timeout=30)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # on an interruption, do not wait for the running batches: the workers die with
        # this process anyway, and what they finished is already on disk
        self._pool.shutdown(wait=exc is None, cancel_futures=True)


class DaskCluster:
    """A Dask (``dask.distributed``) cluster reached through its scheduler."""

    def __init__(self, address: str, *, timeout: float = 10) -> None:
        import distributed  # untyped: used through Any

        self._distributed: Any = distributed
        try:
            # the default client of this process: distributed.wait syncs through it
            self.client: Any = self._distributed.Client(address, timeout=timeout)
        except OSError as exc:
            raise ZkMarginError(f"cannot reach the Dask scheduler at {address}: {exc}") \
                from None
        threads = sum(self.client.nthreads().values())
        if threads < 1:
            self.client.close()
            raise ZkMarginError(f"the Dask scheduler at {address} has no workers")
        self.threads = threads
        self.capacity = 2 * threads

    def submit(self, fn: Callable[[Any], Any], task: Any) -> Any:
        # pure=False: a rerun after a failure must run again, never reuse a result
        return self.client.submit(fn, task, pure=False)

    def wait_first(self, futures: Collection[Any]) -> set[Any]:
        done, _ = self._distributed.wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done)

    def result(self, future: Any) -> Any:
        return future.result()

    def stop(self) -> None:
        # the client's futures are released: tasks not started are dropped; a worker
        # finishing its current batch still lands it (kept by a resume)
        self.client.close()

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.client.close()
