"""Request cache: a re-run (or another worker sharing the cache file) never sends the same
request twice. Keyed by sha256 of (prompt version, model, the rendered messages, which hold the
text and the label set, and the generation parameters); sqlite so that concurrent threads and
processes can share one file safely."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Union


def request_key(prompt_version: str, model: str, messages: Sequence[Mapping[str, str]], params: Mapping[str, Any]) -> str:
    payload = json.dumps(
        {"prompt_version": prompt_version, "model": model, "messages": list(messages), "params": dict(params)},
        sort_keys=True, ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class RequestCache:
    """``get(key)``/``put(key, value)`` of JSON-serialisable completions, one sqlite file."""

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # timeout: other processes (shard workers) may hold the write lock for a moment.
        self._connection = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
        with self._lock, self._connection:
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            row = self._connection.execute("SELECT value FROM completions WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT OR REPLACE INTO completions (key, value) VALUES (?, ?)", (key, json.dumps(value, ensure_ascii=False))
            )

    def __len__(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._connection.close()
