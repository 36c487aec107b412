"""Label maps: source type -> natural-language label, kept as YAML data per corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Mapping, Optional, Union

import yaml

LABEL_MAP_DIR = Path(__file__).resolve().parent / "label_maps"


def read_label_map_file(path: Union[str, Path]) -> Dict[str, Optional[str]]:
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in data.items()):
        raise ValueError(f"{path}: a label map is a mapping 'SourceType: natural-language label' (or null to leave a type out)")
    return dict(data)


def load_label_map(name: str, override: Optional[Union[Mapping[str, Optional[str]], str, Path]] = None) -> Dict[str, Optional[str]]:
    """The label map of corpus ``name`` with ``override`` (a mapping or a YAML/JSON file) merged over it.

    A ``None`` label means "leave this type out"; such mentions are counted in the report.
    """
    path = LABEL_MAP_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in LABEL_MAP_DIR.glob("*.yaml"))
        raise KeyError(f"no label map for {name!r} (looked for {path}); known: {', '.join(known)}")
    label_map = read_label_map_file(path)
    if override is not None:
        label_map.update(read_label_map_file(override) if isinstance(override, (str, Path)) else dict(override))
    return label_map
