"""Writer sessions that survive a dropped connection: reconnect with backoff, bounded.

A stage's warehouse work is a sequence of ledgered, idempotent units (one transaction
each), so when the connection drops (server restart, ``pg_terminate_backend``, network)
the unit in flight has rolled back and the right recovery is: open a NEW connection and
run the stage's work again; units already committed are skipped by the ledger.  At most
``warehouse_retry_attempts`` connections within ``warehouse_retry_seconds`` (backoff 1 s,
2 s, 4 s ...); then one :class:`WarehouseError` line.  An unreachable server at the start
gets the same budget.  Other errors are not retried here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pipeline.config import Settings
from pipeline.warehouse.backend import Backend, WarehouseBusy, WarehouseError, open_backend

log = logging.getLogger(__name__)
T = TypeVar("T")


def with_writer(settings: Settings, work: Callable[[Backend], T], *, what: str = "warehouse work") -> T:
    """``work(be)`` on a writer connection, again on a new one when the connection is lost."""
    attempts = max(1, settings.warehouse_retry_attempts)
    deadline = time.monotonic() + settings.warehouse_retry_seconds  # a budget, not a decision clock
    delay = 1.0
    for attempt in range(1, attempts + 1):
        be: Backend | None = None
        try:
            with open_backend(settings) as be:
                return work(be)
        except WarehouseBusy:
            raise
        except Exception as exc:
            lost = be.is_connection_lost(exc) if be is not None else _unreachable(exc)
            if not lost:
                raise
            left = deadline - time.monotonic()
            if attempt == attempts or left < delay:
                raise WarehouseError(
                    f"warehouse connection lost during {what}; gave up after {attempt} attempt(s)"
                    f" within {settings.warehouse_retry_seconds:.0f}s: {_first_line(exc)}",
                    "check that the warehouse is up; committed batches are kept and the next run "
                    "finishes the load") from exc
            log.warning("warehouse connection lost during %s (%s); retrying on a new connection in "
                        "%.0fs (attempt %d of %d)", what, _first_line(exc), delay, attempt + 1, attempts)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _unreachable(exc: BaseException) -> bool:
    """Opening failed because the server did not answer (worth another try)."""
    return isinstance(exc, WarehouseError) and str(exc).startswith("cannot reach the warehouse")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
