"""atomic_folder: the folder appears whole (with ordinary permissions) or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from gliner_biomed.atomic_files import atomic_folder


def siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


def test_folder_appears_only_when_the_block_succeeds(tmp_path):
    out = tmp_path / "repo"
    with atomic_folder(out) as folder:
        (folder / "data").mkdir()
        (folder / "data" / "a.txt").write_text("a")
        assert not out.exists()
    assert (out / "data" / "a.txt").read_text() == "a"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask  # not mkdtemp's private 0o700
    assert siblings(out) == ["repo"]

    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_folder(tmp_path / "broken") as folder:
            (folder / "half.txt").write_text("half")
            raise RuntimeError("interrupted")
    assert siblings(out) == ["repo"]  # neither the target nor the temporary folder is left


def test_existing_target_needs_overwrite_unless_it_is_an_empty_folder(tmp_path):
    out = tmp_path / "repo"
    out.mkdir()
    with atomic_folder(out) as folder:  # an empty folder (e.g. made by the caller) is replaced
        (folder / "new.txt").write_text("new")
    assert [p.name for p in out.iterdir()] == ["new.txt"]

    with pytest.raises(FileExistsError, match="repo exists"):
        with atomic_folder(out):
            pass
    with atomic_folder(out, overwrite=True) as folder:
        (folder / "newer.txt").write_text("newer")
    assert [p.name for p in out.iterdir()] == ["newer.txt"]  # old content gone, not merged
    assert siblings(out) == ["repo"]
