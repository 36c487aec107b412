"""`datasets download` against a loopback HTTP server (127.0.0.1 only) serving the committed real
corpus files: checksum ok, checksum wrong, interrupted transfer, 404; and the resolution order."""

import dataclasses
import hashlib
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gliner_biomed.cli import main
from gliner_biomed.dataset_builders import sources
from gliner_biomed.dataset_builders.download import DownloadConfig, DownloadError, download, tree_sha256, verify
from gliner_biomed.dataset_builders.sources import DOWNLOADS, CorpusDownload, RawFile, resolve_corpus_dir

from model_factory import CORPUS_SAMPLES, FIXTURE_CORPORA

QUIET = DownloadConfig(timeout_s=10, progress=False)


class Routes(dict):
    """path -> (status, body, bytes actually sent before the connection is closed)."""


def _handler(routes: Routes):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, body, sent = routes.get(self.path, (404, b"not found", None))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body if sent is None else body[:sent])
            self.wfile.flush()
            if sent is not None:
                self.close_connection = True

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def server():
    routes = Routes()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(routes))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield routes, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def no_corpora(tmp_path, monkeypatch, without_fixture_corpora):
    """No explicit folder, no environment variable, no ../shared: only the cache (under tmp_path)."""
    import huggingface_hub.constants

    monkeypatch.delenv(sources.CORPORA_ENV, raising=False)
    monkeypatch.setattr(sources, "SHARED_CORPORA", tmp_path / "no-shared")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HOME", str(tmp_path / "hf"))
    return tmp_path / "hf" / "gliner-biomed" / "corpora"


def _zip(members) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def _serve_ncbi_release(routes, base, monkeypatch):
    """The NCBI-disease record pointed at the loopback server, which serves the release's zips."""
    record = DOWNLOADS["ncbi-disease"]
    files = []
    for raw in record.files:
        name = raw.url.rsplit("/", 1)[1]
        routes[f"/{name}"] = (200, _zip({raw.member: (FIXTURE_CORPORA / raw.path).read_bytes()}), None)
        files.append(dataclasses.replace(raw, url=f"{base}/{name}"))
    monkeypatch.setitem(DOWNLOADS, "ncbi-disease", dataclasses.replace(record, files=tuple(files)))


def _leftovers(folder: Path):
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith("."))


def test_missing_corpus_is_one_line_saying_how_to_fetch_it(no_corpora, tmp_path, capsys):
    assert main(["datasets", "build", "ncbi-disease", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "corpus ncbi-disease not found" in error
    assert "gliner-biomed datasets download ncbi-disease" in error
    assert not (tmp_path / "out").exists()


def test_download_verifies_then_the_cache_is_used(server, no_corpora, monkeypatch, capsys):
    routes, base = server
    _serve_ncbi_release(routes, base, monkeypatch)
    assert main(["datasets", "download", "ncbi-disease", "--quiet"]) == 0
    assert "fetched pubtator/NCBIdisease_Train.PubTator" in capsys.readouterr().out
    for raw in DOWNLOADS["ncbi-disease"].files:
        assert (no_corpora / raw.path).read_bytes() == (FIXTURE_CORPORA / raw.path).read_bytes()
    assert _leftovers(no_corpora) == []
    assert resolve_corpus_dir("ncbi-disease") == no_corpora
    # A rerun fetches nothing; the builders find the corpus in the cache.
    routes.clear()
    assert download("ncbi-disease", no_corpora, QUIET) == []
    assert main(["datasets", "stats", "ncbi-disease"]) == 0
    assert "test: 100 documents" in capsys.readouterr().out


def _plain_record(monkeypatch, base, sha256):
    raw = RawFile("pubtator/NCBIdisease_Test.PubTator", f"{base}/NCBIdisease_Test.PubTator", sha256)
    monkeypatch.setitem(DOWNLOADS, "ncbi-disease", CorpusDownload("loopback", "test", (raw,)))
    return raw


def test_checksum_mismatch_is_refused_and_nothing_is_kept(server, tmp_path, monkeypatch):
    routes, base = server
    real = (FIXTURE_CORPORA / "pubtator" / "NCBIdisease_Test.PubTator").read_bytes()
    raw = _plain_record(monkeypatch, base, hashlib.sha256(real).hexdigest())
    routes["/NCBIdisease_Test.PubTator"] = (200, real.replace(b"|t|", b"|T|", 1), None)
    with pytest.raises(DownloadError, match=r"pubtator/NCBIdisease_Test.PubTator: checksum mismatch for http://127\.0\.0\.1"):
        download("ncbi-disease", tmp_path, QUIET)
    assert not (tmp_path / raw.path).exists() and _leftovers(tmp_path) == []
    routes["/NCBIdisease_Test.PubTator"] = (200, real, None)
    assert download("ncbi-disease", tmp_path, QUIET) == [raw.path]
    assert verify("ncbi-disease", tmp_path) == []


def test_interrupted_transfer_never_counts_as_present(server, tmp_path, monkeypatch):
    routes, base = server
    real = (FIXTURE_CORPORA / "pubtator" / "NCBIdisease_Test.PubTator").read_bytes()
    raw = _plain_record(monkeypatch, base, hashlib.sha256(real).hexdigest())
    routes["/NCBIdisease_Test.PubTator"] = (200, real, len(real) // 2)
    with pytest.raises(DownloadError, match="cut short|failed"):
        download("ncbi-disease", tmp_path, QUIET)
    assert not (tmp_path / raw.path).exists() and _leftovers(tmp_path) == []
    assert verify("ncbi-disease", tmp_path) == [raw.path]


def test_not_found_names_the_url(server, tmp_path, monkeypatch, capsys):
    _, base = server
    _plain_record(monkeypatch, base, "0" * 64)
    assert main(["datasets", "download", "ncbi-disease", "--cache", str(tmp_path), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert f"{base}/NCBIdisease_Test.PubTator answered HTTP 404" in error and error.count("\n") == 1
    assert list(tmp_path.rglob("*.PubTator")) == []


def test_archive_of_a_folder_is_checked_as_one_tree(server, tmp_path, monkeypatch):
    routes, base = server
    chia = CORPUS_SAMPLES / "brat" / "chia"
    members = {f"chia_without_scope/{p.name}": p.read_bytes() for p in sorted(chia.iterdir())}
    routes["/chia_without_scope.zip"] = (200, _zip({"README.md": b"not part of the corpus", **members}), None)
    tree = dataclasses.replace(DOWNLOADS["chia"].trees[0], url=f"{base}/chia_without_scope.zip", tree_sha256=tree_sha256(chia), files=len(members))
    monkeypatch.setitem(DOWNLOADS, "chia", dataclasses.replace(DOWNLOADS["chia"], trees=(tree,)))
    assert download("chia", tmp_path, QUIET) == ["brat/chia"]
    fetched = tmp_path / "brat" / "chia"
    assert sorted(p.name for p in fetched.iterdir()) == sorted(p.name for p in chia.iterdir())
    assert all((fetched / p.name).read_bytes() == p.read_bytes() for p in chia.iterdir())
    # One changed byte in one of the files: the whole tree is refused, the good copy stays.
    members["chia_without_scope/annotation.conf"] += b"\n"
    routes["/chia_without_scope.zip"] = (200, _zip(members), None)
    (fetched / "annotation.conf").write_bytes(b"damaged")
    with pytest.raises(DownloadError, match="brat/chia: checksum mismatch"):
        download("chia", tmp_path, QUIET)
    assert (fetched / "annotation.conf").read_bytes() == b"damaged" and _leftovers(tmp_path) == []


@pytest.mark.corpus("all")
def test_records_match_the_corpora_folder():
    """Every recorded SHA-256 is that of the raw files the builders read."""
    for name in DOWNLOADS:
        assert verify(name, resolve_corpus_dir(name)) == [], name
