"""How fast the audit trail appends and verifies (used by the benchmark_audit command).

Appends are measured as the application makes them: one committed transaction per event, each taking
the chain's lock, reading the head and inserting. Since audit rows can never be deleted (on PostgreSQL
a trigger refuses it), the command runs all of this in a scratch database it creates and drops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, connection, transaction

from access.audit import record_event
from access.checkpoints import sign_checkpoint, verify_chain


@dataclass(frozen=True)
class Rate:
    label: str
    events: int
    seconds: float

    def line(self) -> str:
        per_second = self.events / self.seconds if self.seconds else float("inf")
        return (
            f"{self.label:<52} {self.events:>9,} events in {self.seconds:8.2f} s = "
            f"{per_second:>10,.0f} events/s"
        )


def _append(count: int, writer: int) -> None:
    for number in range(count):
        with transaction.atomic():
            record_event(
                "benchmark.read",
                actor=None,
                object_type="case",
                object_reference=f"VR-BNCH-{writer % 10}{number % 10}",
                object_agency="benchmark",
                reason="owner",
                details={"categories": ["identitet", "risk", "sammanfattning"], "protected_identity": False},
            )


def _timed(operation: Callable[[], object]) -> float:
    start = time.perf_counter()
    operation()
    return time.perf_counter() - start


def append_rate(count: int, writers: int) -> Rate:
    """``count`` events appended by ``writers`` threads at once, each with its own connection."""
    if writers == 1:
        return Rate("append, 1 writer (a transaction per event)", count, _timed(lambda: _append(count, 0)))
    share = count // writers
    failures: list[BaseException] = []

    def work(writer: int) -> None:
        try:
            _append(share, writer)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(writer,)) for writer in range(writers)]

    def run() -> None:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    seconds = _timed(run)
    if failures:
        raise failures[0]
    return Rate(f"append, {writers} concurrent writers", share * writers, seconds)


def verify_rates() -> list[Rate]:
    """A full verification, then one from a checkpoint with nothing after it, then after 1,000 more."""
    rates = []
    start = time.perf_counter()
    report = verify_chain(full=True)
    rates.append(Rate("verify, whole chain", report.checked, time.perf_counter() - start))
    if not report.ok:
        raise RuntimeError(f"The benchmark's own chain is broken: {report.problem}")
    sign_checkpoint(report)
    _append(1000, 0)
    start = time.perf_counter()
    report = verify_chain()
    rates.append(
        Rate("verify, incremental (1,000 after a checkpoint)", report.checked, time.perf_counter() - start)
    )
    if not report.ok:
        raise RuntimeError(f"The benchmark's own chain is broken: {report.problem}")
    return rates
