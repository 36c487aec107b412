"""A local OpenAI-compatible server that answers from recorded completions: the tests and the
cost benchmark drive the real HTTP client through it (real sockets, real retries), and users can
dry-run a pipeline without an LLM (``gliner-biomed synth replay-server``).

Recordings file (JSONL), one object per text: ``{"id", "text", "script": [step, ...]}``; a step
is ``{"status": 200, "content", "finish_reason", "usage"}``, ``{"status": 429|5xx, "retry_after"?}``
or ``{"status": 200, "raw_body": "..."}`` (a broken body). The n-th request for a text gets step
n (the last step repeats). A request is matched to the recording whose text is in its last
message. Every request is logged (``server.log``) for assertions."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Union


@dataclass
class LoggedRequest:
    recording_id: Optional[str]
    status: int
    model: str
    body: dict
    answered: bool = False  # a chat completion was sent (not an error status, not a broken body)


@dataclass
class ReplayState:
    recordings: List[dict]
    delay_s: float = 0.0  # per request, to keep requests in flight (crash tests)
    log: List[LoggedRequest] = field(default_factory=list)
    served: Dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def match(self, content: str) -> Optional[dict]:
        for recording in self.recordings:
            if recording["text"] in content:
                return recording
        return None


def load_recordings(path: Union[str, Path]) -> List[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _handler(state: ReplayState):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: the log list is the record
            pass

        def _send(self, status: int, body: bytes, headers: Optional[Dict[str, str]] = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout) or died (crash tests)
                pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            try:
                request = json.loads(self.rfile.read(length))
                content = request["messages"][-1]["content"]
            except (ValueError, KeyError, IndexError, TypeError):
                self._send(400, b'{"error": {"message": "bad request body"}}')
                return
            if not self.path.endswith("/chat/completions"):
                self._send(404, b'{"error": {"message": "unknown path"}}')
                return
            recording = state.match(content)
            if recording is None:
                with state.lock:
                    state.log.append(LoggedRequest(None, 404, request.get("model", ""), request))
                self._send(404, b'{"error": {"message": "no recording for this text"}}')
                return
            with state.lock:
                count = state.served.get(recording["id"], 0)
                state.served[recording["id"]] = count + 1
                step = recording["script"][min(count, len(recording["script"]) - 1)]
                answered = step["status"] == 200 and "raw_body" not in step
                state.log.append(LoggedRequest(recording["id"], step["status"], request.get("model", ""), request, answered))
            if state.delay_s:
                time.sleep(state.delay_s)
            if step["status"] != 200:
                headers = {"Retry-After": str(step["retry_after"])} if "retry_after" in step else None
                error = {"error": {"message": step.get("message", f"recorded HTTP {step['status']}"), "code": step["status"]}}
                self._send(step["status"], json.dumps(error).encode(), headers)
                return
            if "raw_body" in step:
                self._send(200, step["raw_body"].encode())
                return
            completion = {
                "id": f"chatcmpl-replay-{recording['id']}-{count}",
                "object": "chat.completion",
                "created": 0,
                "model": request.get("model", ""),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": step["content"]},
                             "finish_reason": step.get("finish_reason", "stop")}],
                "usage": step.get("usage", {}),
            }
            self._send(200, json.dumps(completion).encode())

    return Handler


class ReplayServer:
    """``with ReplayServer(recordings) as server: server.base_url`` -> http://127.0.0.1:PORT/v1"""

    def __init__(self, recordings: List[dict], host: str = "127.0.0.1", port: int = 0, delay_s: float = 0.0):
        self.state = ReplayState(recordings, delay_s)
        self._server = ThreadingHTTPServer((host, port), _handler(self.state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def log(self) -> List[LoggedRequest]:
        return self.state.log

    def start(self) -> "ReplayServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "ReplayServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
