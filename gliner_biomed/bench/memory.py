"""Peak resident memory during a call, sampled from /proc (torch allocations are invisible to
tracemalloc, and ru_maxrss only ever grows over the whole process)."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * _PAGE


class PeakRSS:
    """``with PeakRSS() as peak: ...`` then ``peak.peak_mb`` (highest RSS seen) and
    ``peak.growth_mb`` (highest RSS minus RSS before the call)."""

    def __init__(self, interval_s: float = 0.005):
        self.interval_s = interval_s
        self.before = self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval_s)

    def __enter__(self) -> "PeakRSS":
        self.before = self.peak = rss_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 2**20


@contextmanager
def measured() -> Iterator[dict]:
    """Wall time and peak RSS of a block: ``{"seconds", "peak_rss_mb", "rss_growth_mb"}``."""
    result: dict = {}
    with PeakRSS() as peak:
        start = time.perf_counter()
        yield result
        result["seconds"] = time.perf_counter() - start
    result["peak_rss_mb"] = round(peak.peak_mb, 1)
    result["rss_growth_mb"] = round(peak.growth_mb, 1)
