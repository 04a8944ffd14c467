"""The one way tests wait: poll a condition until a deadline (no bare sleeps).

tests/unit/test_hermetic.py forbids ``time.sleep`` anywhere else in tests/.
"""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str = "a condition", interval: float = 0.1) -> T:
    """Calls ``predicate`` until it returns a true value (returned) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(interval)
