"""Every command in README.md and docs/*.md is checked (the rule is in docs/README.md):

* each `gliner-biomed ...` command in a ```bash block is parsed by the real CLI parser, so a
  renamed command, option or corpus name fails here;
* any other command (python, pip, accelerate ...) sits in a block marked
  ``<!-- docs-check: PATH[::TEST] -->`` naming the test or script that runs it; the test must exist;
* the README's Python quickstart runs (`test_readme_quickstart_runs`).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import pytest

from gliner_biomed.cli import build_parser

from model_factory import FIXTURE_CORPORA

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"<!--\s*docs-check:\s*(\S+)\s*-->")
SEPARATORS = {"&&", "||", "|", ";", "&"}
REDIRECTIONS = {">", ">>", "<", "2>", "&>"}
# Shell utilities whose use in an example needs no test.
SHELL = {"echo", "cd", "export", "cat", "ls", "mkdir", "printf", "head", "tail", "wc", "cp", "rm", "for", "do", "done", "wait", "jq"}
LAUNCHERS = {"accelerate", "torchrun"}


@dataclass
class Block:
    page: Path
    line: int  # of the opening fence
    language: str
    marker: Optional[str]
    lines: List[str]

    def where(self, offset: int = 0) -> str:
        return f"{self.page.relative_to(REPO_ROOT)}:{self.line + 1 + offset}"


def blocks(page: Path) -> List[Block]:
    found, current, marker = [], None, None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if current is None:
            if line.startswith("```"):
                current = Block(page, number, line[3:].strip(), marker, [])
            elif line.strip():
                match = MARKER.search(line)
                marker = match.group(1) if match else None
        elif line.startswith("```"):
            found.append(current)
            current, marker = None, None
        else:
            current.lines.append(line)
    return found


def _without_substitutions(text: str) -> str:
    while "$(" in text:
        start = text.index("$(")
        depth, end = 0, start + 1
        for end in range(start + 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        text = text[:start] + "SUBSTITUTED" + text[end + 1:]
    return text


def commands(block: Block):
    """(line offset, argv) of every simple command of a bash block (continuations joined)."""
    pending, start = "", 0
    for offset, line in enumerate(block.lines):
        if not pending:
            start = offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text, pending = pending + line, ""
        # $(...) runs a helper to fill a variable; shell variables stand for any value.
        text = _without_substitutions(text)
        text = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "1", text)
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split, lexer.commenters = True, "#"
        try:
            tokens = list(lexer)
        except ValueError as error:
            pytest.fail(f"{block.where(start)}: cannot split {text!r}: {error}")
        segment, redirected = [], False
        for token in tokens + [";"]:
            if token in REDIRECTIONS:
                redirected = True
            elif redirected and token not in SEPARATORS:
                continue  # the target of a redirection
            elif token in SEPARATORS:
                redirected = False
                while segment and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", segment[0]):
                    segment.pop(0)  # VAR=value prefixes and plain assignments
                if segment:
                    yield start, segment
                segment = []
            else:
                segment.append(token)


def cli_argv(argv: List[str]) -> Optional[List[str]]:
    """The arguments given to gliner-biomed, if this command runs it (directly, or with a launcher
    as `-m gliner_biomed.cli` or a command module's `-m gliner_biomed.<group>.cli GROUP ...`)."""
    if Path(argv[0]).name == "gliner-biomed":
        return argv[1:]
    if argv[0] in LAUNCHERS or Path(argv[0]).name.startswith("python"):
        if "gliner-biomed" in argv:
            return argv[argv.index("gliner-biomed") + 1:]
        modules = [i for i, token in enumerate(argv[:-1]) if token == "-m" and re.fullmatch(r"gliner_biomed(\.\w+)*\.cli", argv[i + 1])]
        if modules:
            return argv[modules[0] + 2:]
    return None


def marker_problem(marker: str) -> Optional[str]:
    path, _, test = marker.partition("::")
    file = REPO_ROOT / path
    if not file.is_file():
        return f"docs-check names {path}, which does not exist"
    if test and not re.search(rf"^def {re.escape(test)}\(", file.read_text(encoding="utf-8"), re.M):
        return f"docs-check names {marker}, but {path} has no test {test}"
    return None


def test_every_command_in_the_docs_is_checked():
    parser = build_parser()
    problems, checked = [], 0
    for page in PAGES:
        for block in blocks(page):
            if block.marker and (problem := marker_problem(block.marker)):
                problems.append(f"{block.where()}: {problem}")
            if block.language not in ("bash", "sh", "shell"):
                continue
            for offset, argv in commands(block):
                arguments = cli_argv(argv)
                if arguments is None:
                    if argv[0] not in SHELL and argv[:2] != ["accelerate", "config"] and not block.marker:
                        problems.append(f"{block.where(offset)}: `{' '.join(argv)[:80]}` is not a gliner-biomed command; "
                                        "mark its block <!-- docs-check: tests/FILE.py::TEST --> (the test that runs it)")
                    continue
                errors = io.StringIO()
                try:
                    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
                        parser.parse_args(arguments)
                except SystemExit as exit_status:
                    if exit_status.code:
                        problems.append(f"{block.where(offset)}: gliner-biomed {' '.join(arguments)[:80]}: {errors.getvalue().strip().splitlines()[-1]}")
                checked += 1
    assert not problems, "\n".join(problems)
    assert checked > 40  # the pages hold many commands; finding none would mean the scan is broken


def test_the_check_catches_a_stale_command(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```bash\ngliner-biomed datasets build no-such-corpus --out x\npython run.py\n```\n", encoding="utf-8")
    (block,) = blocks(page)
    argvs = [argv for _, argv in commands(block)]
    assert argvs == [["gliner-biomed", "datasets", "build", "no-such-corpus", "--out", "x"], ["python", "run.py"]]
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        build_parser().parse_args(cli_argv(argvs[0]))
    assert marker_problem("tests/test_docs.py::no_such_test") and marker_problem("tests/test_docs.py::test_the_check_catches_a_stale_command") is None


def _quickstart() -> str:
    readme = blocks(REPO_ROOT / "README.md")
    return next(block for block in readme if block.language == "python" and "AutoModel" in "\n".join(block.lines))


@pytest.mark.slow
def test_readme_quickstart_runs(tmp_path):
    """The README's quickstart commands and Python block, with the committed NCBI-disease files as
    the corpora (no download, no network)."""
    quickstart = _quickstart()
    setup = next(block for block in blocks(REPO_ROOT / "README.md") if block.marker == "tests/test_docs.py::test_readme_quickstart_runs")
    (tmp_path / "metrics").symlink_to(REPO_ROOT / "metrics")
    env_cli = [sys.executable, "-m", "gliner_biomed.cli"]
    for _, argv in commands(setup):
        arguments = cli_argv(argv)
        if arguments[:2] == ["datasets", "download"]:
            continue  # the committed corpus stands in for the download
        if arguments[:2] == ["datasets", "build"]:
            arguments = arguments + ["--corpora-dir", str(FIXTURE_CORPORA)]
        subprocess.run(env_cli + arguments, cwd=tmp_path, check=True, timeout=600, stdin=subprocess.DEVNULL)
    result = subprocess.run([sys.executable, "-c", "\n".join(quickstart.lines)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout.strip().splitlines()
    assert "'label': 'disease'" in printed[0] and 0.0 < float(printed[-1]) <= 1.0
    assert printed[1] == printed[0]  # the pipeline returns what predict_entities returns
