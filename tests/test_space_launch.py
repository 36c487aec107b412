"""The Space leaves the launcher its say (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT) and does not
keep a file per request forever. A stand-in model keeps these tests fast; test_space.py runs real ones."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


class MentionsOfBrca1:
    """Finds every "BRCA1" as a gene (what the app needs from a model: predict_entities)."""

    def predict_entities(self, text, labels, threshold=0.5, flat_ner=True, multi_label=False):
        start = text.find("BRCA1")
        return [] if start < 0 else [{"start": start, "end": start + 5, "text": "BRCA1", "label": labels[0], "score": 0.9}]


@pytest.fixture
def space_app():
    from gliner_biomed.publishing.cli import load_space_app

    return load_space_app()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def launches(space_app, monkeypatch):
    """Each launch() of the app: its arguments and the URL gradio really served on."""
    import gradio as gr

    real_launch, seen = gr.Blocks.launch, []

    def launch(self, **kwargs):
        real_launch(self, **kwargs, prevent_thread_lock=True, quiet=True)
        seen.append({**kwargs, "url": self.local_url})
        self.close()

    monkeypatch.setattr(gr.Blocks, "launch", launch)
    monkeypatch.setattr(space_app, "load_model_source", lambda source: MentionsOfBrca1())
    monkeypatch.setattr(space_app, "load_examples", lambda: [])
    return seen


# Gradio reads GRADIO_SERVER_PORT once, when gradio.http_server is first imported (as on a Space, where
# the variables are set before the process starts): so this runs in a fresh process.
LAUNCH_WITH_ENVIRONMENT = """
import json, sys
import gradio as gr
from gliner_biomed.publishing.cli import load_space_app
sys.path.insert(0, sys.argv[1])
from test_space_launch import MentionsOfBrca1

app, seen = load_space_app(), []
real_launch = gr.Blocks.launch
def launch(self, **kwargs):
    real_launch(self, **kwargs, prevent_thread_lock=True, quiet=True)
    seen.append({**kwargs, "url": self.local_url})
    self.close()
gr.Blocks.launch = launch
app.load_model_source = lambda source: MentionsOfBrca1()
app.load_examples = lambda: []
assert app.main(["--model", "stand-in"]) == 0
print(json.dumps({key: seen[-1].get(key) for key in ("server_name", "server_port", "url")}))
"""


def test_gradio_environment_sets_host_and_port_when_no_flag_does():
    import subprocess
    import sys

    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    done = subprocess.run([sys.executable, "-c", LAUNCH_WITH_ENVIRONMENT, str(Path(__file__).parent)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    launched = json.loads(done.stdout.strip().splitlines()[-1])
    assert launched["server_name"] is None and launched["server_port"] is None
    assert launched["url"].rstrip("/") == f"http://127.0.0.1:{port}"


def test_flags_win_over_the_gradio_environment(space_app, launches, monkeypatch):
    port = free_port()
    monkeypatch.setenv("GRADIO_SERVER_PORT", str(free_port()))
    assert space_app.main(["--model", "stand-in", "--host", "127.0.0.1", "--port", str(port)]) == 0
    assert (launches[-1]["server_name"], launches[-1]["server_port"]) == ("127.0.0.1", port)
    assert launches[-1]["url"].rstrip("/") == f"http://127.0.0.1:{port}"


def test_space_command_passes_only_the_flags_given(monkeypatch):
    from gliner_biomed.cli import main
    from gliner_biomed.publishing import cli

    given = []

    class App:
        @staticmethod
        def main(argv):
            given.append(argv)
            return 0

    monkeypatch.setattr(cli, "load_space_app", lambda: App)
    assert main(["space", "--model", "m"]) == 0
    assert main(["space", "--model", "m", "--port", "8001"]) == 0
    assert given == [["--model", "m", "--max-characters", "100000"], ["--model", "m", "--port", "8001", "--max-characters", "100000"]]


def test_downloads_keep_only_the_latest_files(space_app):
    downloads = space_app.DownloadFiles(keep=3)
    predictor = space_app.Predictor(space_app.ModelRegistry({"stand-in": "x"}, loader=lambda source: MentionsOfBrca1()),
                                    downloads=downloads)
    paths = []
    for index in range(10):
        text = f"Request {index}: BRCA1 mutations."
        _, rows, path, _ = predictor.predict(text, ["gene"], 0.5, False, False, "stand-in")
        assert rows == [[10 + len(str(index)), 15 + len(str(index)), "BRCA1", "gene", 0.9]]
        paths.append(path)
    assert sorted(p.name for p in downloads.folder.iterdir()) == sorted(Path(p).name for p in paths[-3:])
    assert json.loads(Path(paths[-1]).read_text(encoding="utf-8"))["text"] == "Request 9: BRCA1 mutations."
    folder = downloads.folder
    del predictor, downloads
    import gc

    gc.collect()
    assert not folder.exists()  # the folder goes with the app


def test_gradio_cleans_its_cached_copies(space_app):
    demo = space_app.build_demo(space_app.ModelRegistry({"stand-in": "x"}, loader=lambda source: MentionsOfBrca1()))
    assert demo.delete_cache == (space_app.CACHE_SWEEP_S, space_app.CACHE_MAX_AGE_S)
