"""The local annotator: a transformers causal LM (a distilled student from ``synth distil``: an
adapter folder, or any full model folder) generating the same JSON answers as the LLM endpoint.
Imports torch/transformers lazily so that the HTTP path stays light."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Union

from ..sharding import default_worker_device
from .client import Completion
from .prompts import Messages, chat_prompt

STUDENT_INFO = "synth_student.json"  # written by distil next to the adapter


@dataclass(frozen=True)
class LocalGenerationConfig:
    max_new_tokens: int = 2048
    temperature: float = 0.0  # 0: greedy decoding


def encode_prompt(tokenizer, prompt: str) -> List[int]:
    """Token ids of a rendered prompt. Chat templates already hold the special tokens they need;
    plain prompts get the tokenizer's usual ones. Training (distil) and generation share this."""
    return tokenizer(prompt, add_special_tokens=not getattr(tokenizer, "chat_template", None))["input_ids"]


def _weights_fingerprint(folder: Path) -> str:
    """Part of the cache key: a retrained student in the same folder must not hit old answers."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        digest.update(path.name.encode())
        digest.update(str(path.stat().st_size).encode())
        with path.open("rb") as handle:
            digest.update(handle.read(16 << 20))  # first 16 MiB: enough to tell trainings apart, cheap for big models
    return digest.hexdigest()[:12]


class TransformersBackend:
    """``complete_batch([messages, ...])`` with a local causal LM (left-padded batched generation)."""

    parallel = False  # the runner batches texts instead of using threads

    def __init__(self, model_dir: Union[str, Path], config: LocalGenerationConfig = LocalGenerationConfig(),
                 device: Optional[str] = None, base_model: Optional[Union[str, Path]] = None):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = Path(model_dir)
        if not (folder / "config.json").exists() and not (folder / "adapter_config.json").exists():
            raise FileNotFoundError(f"{folder}: not a model folder (no config.json) nor an adapter folder (no adapter_config.json)")
        self.config = config
        self.device = device or default_worker_device()
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        if (folder / "adapter_config.json").exists():
            from peft import PeftModel

            if base_model is None:
                base_model = json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"]
            model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_model), folder)
        else:
            model = AutoModelForCausalLM.from_pretrained(folder)
        self.causal_lm = model.to(self.device).eval()
        self.tokenizer.padding_side = "left"  # generation continues every row from its last prompt token
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = f"{folder.name}@{_weights_fingerprint(folder)}"  # recorded in outputs, part of the cache key

    def generation_params(self) -> Dict:
        return {"max_new_tokens": self.config.max_new_tokens, "temperature": self.config.temperature}

    def complete(self, messages: Messages) -> Completion:
        return self.complete_batch([messages])[0]

    def complete_batch(self, batch: List[Messages]) -> List[Completion]:
        import torch

        prompts = [encode_prompt(self.tokenizer, chat_prompt(self.tokenizer, messages)) for messages in batch]
        padded = self.tokenizer.pad({"input_ids": prompts}, return_tensors="pt").to(self.device)
        sampling = {"do_sample": True, "temperature": self.config.temperature} if self.config.temperature > 0 else {"do_sample": False}
        with torch.no_grad():
            generated = self.causal_lm.generate(
                **padded, max_new_tokens=self.config.max_new_tokens, pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id, **sampling,
            )
        completions = []
        prompt_width = padded["input_ids"].shape[1]
        for row, prompt_ids in zip(generated, prompts):
            new = row[prompt_width:].tolist()
            stopped = self.tokenizer.eos_token_id in new
            if stopped:
                new = new[: new.index(self.tokenizer.eos_token_id)]
            content = self.tokenizer.decode(new, skip_special_tokens=True)
            usage = {"prompt_tokens": len(prompt_ids), "completion_tokens": len(new), "total_tokens": len(prompt_ids) + len(new)}
            completions.append(Completion(content, "stop" if stopped else "length", usage, attempts=1))
        return completions
