"""Annotation backends: any OpenAI-compatible chat endpoint over HTTP (vLLM, TGI, llama.cpp
server, OpenAI itself), with timeouts and retries with backoff on 429/5xx/transport errors.
The local transformers backend lives in :mod:`gliner_biomed.synth.local_backend`.

httpx (already a dependency of datasets/huggingface-hub) is used rather than the ``openai``
package: only ``POST /chat/completions`` is needed, and owning the retry loop lets the runner
count every attempt (the cost report measures requests, retries included)."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import httpx

from .prompts import Messages
from ..errors import InternalError

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class BackendError(InternalError):
    """A request that failed for good (non-retryable status, or retries exhausted)."""


@dataclass
class Completion:
    content: str
    finish_reason: Optional[str]
    usage: Dict[str, int]  # prompt_tokens, completion_tokens, total_tokens (as the endpoint reported them)
    attempts: int = 1  # HTTP requests sent for this completion, retries included


@dataclass(frozen=True)
class OpenAIConfig:
    base_url: str  # e.g. http://127.0.0.1:8000/v1 (the part before /chat/completions)
    model: str
    api_key_env: str = "OPENAI_API_KEY"  # name of the environment variable holding the key (may be unset for local servers)
    timeout_s: float = 120.0
    max_retries: int = 6
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    temperature: float = 0.0
    max_tokens: int = 2048
    json_mode: bool = False  # send response_format={"type": "json_object"} (servers that support it)


@dataclass
class RequestStats:
    """Thread-safe counts of what was sent: attempts by outcome (HTTP status or error kind)."""

    outcomes: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    @property
    def sent(self) -> int:
        return sum(self.outcomes.values())


def _retry_after_s(response: httpx.Response) -> Optional[float]:
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:  # an HTTP date: rare for these servers; fall back to backoff
        return None


class OpenAIChatBackend:
    """``complete(messages)`` against ``{base_url}/chat/completions``; safe to call from threads."""

    parallel = True  # the runner may call complete() from several threads at once

    def __init__(self, config: OpenAIConfig, max_connections: int = 8, sleep=time.sleep):
        self.config = config
        self.model = config.model
        self.stats = RequestStats()
        self._sleep = sleep
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(config.api_key_env)
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(config.timeout_s),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    def generation_params(self) -> Dict[str, Any]:
        """What, besides model and messages, changes the answer (part of the cache key)."""
        return {"temperature": self.config.temperature, "max_tokens": self.config.max_tokens, "json_mode": self.config.json_mode}

    def _backoff_s(self, attempt: int, response: Optional[httpx.Response]) -> float:
        hinted = _retry_after_s(response) if response is not None else None
        if hinted is not None:
            return min(hinted, self.config.backoff_max_s)
        exponential = min(self.config.backoff_initial_s * (2 ** attempt), self.config.backoff_max_s)
        return exponential * random.uniform(0.5, 1.0)  # jitter: workers do not retry in lockstep

    def complete(self, messages: Messages) -> Completion:
        body: Dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        if self.config.json_mode:
            body["response_format"] = {"type": "json_object"}
        last_problem = ""
        for attempt in range(self.config.max_retries + 1):
            response = None
            try:
                response = self._client.post("/chat/completions", json=body)
            except httpx.TimeoutException as error:
                self.stats.add("timeout")
                last_problem = f"timeout after {self.config.timeout_s}s ({type(error).__name__})"
            except httpx.TransportError as error:
                self.stats.add("transport_error")
                last_problem = f"transport error: {error}"
            else:
                self.stats.add(str(response.status_code))
                if response.status_code == 200:
                    completion = self._parse(response, attempt + 1)
                    if completion is not None:
                        return completion
                    last_problem = f"HTTP 200 with a body that is not a chat completion: {response.text[:200]!r}"
                elif response.status_code in RETRYABLE_STATUS:
                    last_problem = f"HTTP {response.status_code}: {response.text[:200]!r}"
                else:
                    raise BackendError(
                        f"{self.config.base_url}/chat/completions answered HTTP {response.status_code} "
                        f"(not retryable): {response.text[:500]!r}"
                    )
            if attempt < self.config.max_retries:
                self._sleep(self._backoff_s(attempt, response))
        raise BackendError(f"gave up after {self.config.max_retries + 1} attempts; last: {last_problem}")

    @staticmethod
    def _parse(response: httpx.Response, attempts: int) -> Optional[Completion]:
        try:
            payload = response.json()
            choice = payload["choices"][0]
            content = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None
        usage = payload.get("usage") or {}
        usage = {key: int(usage[key]) for key in ("prompt_tokens", "completion_tokens", "total_tokens") if isinstance(usage.get(key), int)}
        return Completion(content, choice.get("finish_reason"), usage, attempts)

    def complete_batch(self, batch: List[Messages]) -> List[Completion]:
        return [self.complete(messages) for messages in batch]

    def close(self) -> None:
        self._client.close()
