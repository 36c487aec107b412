"""The training loop (Accelerate): GLiNER span objective, separate learning rates for encoder
and heads, warmup + schedule, gradient accumulation and clipping, mixed precision where the
hardware has it, periodic validation with best-checkpoint selection, and exact resume.

Why a hand-written Accelerate loop rather than transformers' Trainer: the batches are built by
a collator that draws label prompts from a seeded per-batch RNG and a mixture schedule that is a
pure function of the batch number, so that ``--resume`` replays exactly the batches an
uninterrupted run would see; the Trainer's sampler/dataloader skipping and its label handling
would need as much code to bend into that shape.

Multi-GPU / multi-node: run the same command under ``accelerate launch`` (each process takes its
slice of every global batch; the global batch is batch_size x processes x accumulation)."""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import json
import os
import random
import shutil
import signal
import time
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List, Optional

import torch

from ..errors import BadInputError
from ..io_records import read_json_file
from ..options import setting_differences
from ..output_lock import exclusive_output
from .collator import LabelSampling, SpanCollator
from .config import RESUMABLE_CHANGES, TrainConfig
from .data import BatchSchedule, SourceSpec, load_sources
from .model_setup import LoraSpec, ModelSpec, add_lora, bi_encoder_over, build_model, has_lora, local_encoder_folder, set_trainable, trainable_parameter_count
from .packaging import save_model_folder
from .type_sampling import VocabularyPromptSampler
from .validation import parse_validation, validate

CHECKPOINTS = "checkpoints"
STATE_FILE = "trainer_state.json"
LOG_FILE = "log.csv"
LOG_FIELDS = ["step", "loss", "lr_encoder", "lr_heads", "grad_norm", "examples", "seconds", "metric"]
# Test hook: SIGKILL this process right after the given optimizer step (tests of --resume).
KILL_AT_STEP_ENV = "GLINER_BIOMED_TRAIN_KILL_AT_STEP"
ENCODER_PREFIXES = ("text_encoder.", "labels_encoder.")


# Set by `accelerate launch --mixed_precision` and by `accelerate launch` from `accelerate config`.
LAUNCHER_MIXED_PRECISION_ENV = "ACCELERATE_MIXED_PRECISION"


def resolve_mixed_precision(requested: str) -> Optional[str]:
    """What to pass to ``Accelerator(mixed_precision=...)``. ``auto`` defers to the launcher when
    it chose (None: accelerate reads its own setting), else bf16/fp16 where a GPU has it; an
    explicit ``no``/``bf16``/``fp16`` from the training config or CLI always wins."""
    if requested == "auto" and os.environ.get(LAUNCHER_MIXED_PRECISION_ENV):
        return None
    if requested != "auto":
        if requested != "no" and not torch.cuda.is_available():
            raise ValueError(f"mixed_precision={requested!r} needs a GPU; use 'no' or 'auto' on CPU")
        return requested
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def initial_model(config: TrainConfig):
    """(model, its base for adapter packages: {"encoder": folder} or {"model": folder})."""
    if config.init_model is None:
        spec = ModelSpec(encoder=config.encoder, labels_encoder=config.labels_encoder, hidden_size=config.hidden_size,
                         max_width=config.max_width, max_len=config.max_len, max_types=config.max_types,
                         dropout=config.dropout, num_rnn_layers=config.num_rnn_layers,
                         embed_ent_token=True if config.embed_ent_token is None else config.embed_ent_token)
        return build_model(spec), {"encoder": local_encoder_folder(config.encoder, "--encoder")}
    if config.continue_adapter:
        from .packaging import adapter_package_base_encoder, is_adapter_package, load_adapter_package

        if not is_adapter_package(config.init_model):
            raise BadInputError(f"continue_adapter: init_model {config.init_model} is not an adapter package")
        model = load_adapter_package(config.init_model, merge=False, trainable=True).train()
        base = {"encoder": str(adapter_package_base_encoder(config.init_model))}
    else:
        from gliner_biomed.models import load_model

        # An adapter package is loaded merged: a new adapter (or full training) goes on top of it.
        model, base = load_model(config.init_model).train(), {"model": config.init_model}
    if config.embed_ent_token is not None:
        model.config.embed_ent_token = config.embed_ent_token
    if config.labels_encoder:
        model = bi_encoder_over(model, config.labels_encoder).train()
        base["labels_encoder"] = local_encoder_folder(config.labels_encoder, "--labels-encoder")
    return model, base


def parameter_groups(model, config: TrainConfig) -> List[Dict]:
    groups = {"encoder": ([], []), "heads": ([], [])}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        part = "encoder" if name.startswith(ENCODER_PREFIXES) else "heads"
        no_decay = parameter.ndim < 2 or "LayerNorm" in name or "layer_norm" in name
        groups[part][1 if no_decay else 0].append(parameter)
    out = []
    for part, lr, decay in (("encoder", config.lr_encoder, config.weight_decay_encoder), ("heads", config.lr_heads, config.weight_decay_heads)):
        for params, wd in zip(groups[part], (decay, 0.0)):
            if params:
                out.append({"params": params, "lr": lr, "weight_decay": wd, "name": part})
    if not out:
        raise ValueError("nothing to train: every parameter is frozen")
    return out


def group_lr(optimizer, part: str) -> float:
    for group in optimizer.param_groups:
        if group.get("name") == part:
            return group["lr"]
    return 0.0


class CsvLog:
    """Append-only CSV of training steps; on resume, rows past the checkpoint are dropped first."""

    def __init__(self, path: Path, keep_until_step: Optional[int]):
        self.path = path
        rows = []
        if keep_until_step is not None and path.is_file():
            with open(path, newline="", encoding="utf-8") as handle:
                rows = [row for row in csv.DictReader(handle) if int(row["step"]) <= keep_until_step]
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=LOG_FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)

    def write(self, row: Dict) -> None:
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            csv.DictWriter(handle, fieldnames=LOG_FIELDS).writerow({key: row.get(key, "") for key in LOG_FIELDS})


def latest_checkpoint(output_dir: Path) -> Optional[Path]:
    folder = output_dir / CHECKPOINTS
    if not folder.is_dir():
        return None
    done = [p for p in folder.glob("step-*") if (p / STATE_FILE).is_file()]
    return max(done, key=lambda p: int(p.name.split("-")[1])) if done else None


class Trainer:
    def __init__(self, config: TrainConfig, examples: Optional[List[Dict]] = None, write_outputs: bool = True):
        """``examples``: train on these (schema of load_corpus plus optional ``corpus_types``)
        instead of ``config.data`` (few-shot adaptation). ``write_outputs=False``: no checkpoints,
        logs or model folders (the caller takes the trained model from ``unwrapped()``)."""
        self.write_outputs = write_outputs
        from accelerate import Accelerator
        from accelerate.utils import set_seed

        self.config = config
        if config.threads:
            torch.set_num_threads(config.threads)
        self.output_dir = Path(config.output_dir)
        if write_outputs:
            self.checkpoint_to_resume()  # before the model and data are loaded: a refusal costs nothing
        if config.tensorboard and not (importlib.util.find_spec("tensorboard") or importlib.util.find_spec("tensorboardX")):
            raise ValueError("--tensorboard needs the tensorboard package (pip install tensorboard); the CSV log is always written")
        self.accelerator = Accelerator(mixed_precision=resolve_mixed_precision(config.mixed_precision),
                                       log_with="tensorboard" if config.tensorboard else None,
                                       project_dir=str(self.output_dir))
        set_seed(config.seed)
        self.model, self.base = initial_model(config)
        if config.lora and has_lora(self.model):  # continue_adapter: the package's own adapter trains on
            set_trainable(self.model, config.train_heads)
        elif config.lora:
            add_lora(self.model, LoraSpec(config.lora_r, config.lora_alpha, config.lora_dropout, train_heads=config.train_heads))
        self.model.train()
        type_sampling = config.type_sampling()
        type_sampler = VocabularyPromptSampler(type_sampling) if type_sampling else None
        self.collator = SpanCollator(self.model, LabelSampling(config.max_neg_type_ratio, config.corpus_negatives,
                                                               config.shuffle_labels, config.max_types), type_sampler)
        if examples is not None:
            if not examples:
                raise ValueError("no training examples")
            if type_sampler is not None:
                raise ValueError("type_vocabulary reads the corpora of config.data (their own type names); given examples carry label-map names")
            sources = [(SourceSpec("given-examples"), list(examples))]
        else:
            sources = load_sources(config.data, config.level, config.max_words, config.seed, config.synthetic_source,
                                   source_types=type_sampler is not None, allow_evaluation_corpora=config.allow_evaluation_corpora,
                                   synthetic_negatives=config.synthetic_negatives)
            if type_sampler is not None:
                type_sampler.use_sources(sources)
        self.schedule = BatchSchedule(sources, config.batch_size * self.accelerator.num_processes, config.seed,
                                      mixed=config.mixed_corpus_batches)
        self.validation = parse_validation(config.validation)
        optimizer = torch.optim.AdamW(parameter_groups(self.model, config))
        from transformers import get_scheduler

        total = config.max_steps * self.accelerator.num_processes  # the prepared scheduler steps once per process
        scheduler = get_scheduler(config.scheduler, optimizer, num_warmup_steps=int(config.warmup_ratio * total), num_training_steps=total)
        self.model, self.optimizer, self.scheduler = self.accelerator.prepare(self.model, optimizer, scheduler)
        self.step = 0
        self.best: Optional[Dict] = None
        self.history: List[Dict] = []

    # -- state -----------------------------------------------------------------------------
    def unwrapped(self):
        return self.accelerator.unwrap_model(self.model)

    def save_checkpoint(self) -> None:
        if not self.write_outputs:
            return
        self.accelerator.wait_for_everyone()
        folder = self.output_dir / CHECKPOINTS / f"step-{self.step}"
        self.accelerator.save_state(str(folder))
        if self.accelerator.is_main_process:
            state = {"step": self.step, "best": self.best, "history": self.history, "config": asdict(self.config)}
            tmp = folder / (STATE_FILE + ".tmp")
            tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
            os.replace(tmp, folder / STATE_FILE)  # written last: a checkpoint without it is incomplete
            done = sorted((p for p in (self.output_dir / CHECKPOINTS).glob("step-*")), key=lambda p: int(p.name.split("-")[1]))
            for old in done[: -self.config.keep_checkpoints]:
                shutil.rmtree(old, ignore_errors=True)

    def checkpoint_to_resume(self) -> Optional[Path]:
        """The checkpoint a --resume continues (None for a new run), after checking that the
        output folder fits the request: no checkpoint to resume, checkpoints a new run would mix
        with, or a checkpoint trained with other settings are refused in one line."""
        checkpoint = latest_checkpoint(self.output_dir)
        if not self.config.resume:
            if checkpoint is not None:
                raise BadInputError(f"{self.output_dir} already has checkpoints: pass --resume to continue, or another --output-dir")
            return None
        if checkpoint is None:
            raise BadInputError(f"--resume: no complete checkpoint in {self.output_dir / CHECKPOINTS}; drop --resume to start this run")
        self._check_same_settings(checkpoint)
        return checkpoint

    def _check_same_settings(self, checkpoint: Path) -> None:
        """A resume continues the run the checkpoint comes from; with other settings the restored
        optimizer and scheduler would win silently and the checkpoint would then record settings
        that did not run."""
        recorded = read_json_file(checkpoint / STATE_FILE).get("config", {})
        differences = setting_differences(recorded, json.loads(json.dumps(asdict(self.config))), ignore=RESUMABLE_CHANGES)
        if differences:
            raise BadInputError(f"--resume: {checkpoint} was trained with other settings ({'; '.join(differences)}); "
                                "resume with the same settings, or start a new --output-dir")

    def load_checkpoint(self, folder: Path) -> None:
        self.accelerator.load_state(str(folder))
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        self.step, self.best, self.history = state["step"], state["best"], state["history"]

    def save_model(self, name: str, extra: Optional[Dict] = None) -> Optional[Path]:
        if not self.write_outputs:
            return None
        model = self.unwrapped()
        return save_model_folder(model, self.output_dir / name, base=self.base,
                                 heads_dtype=getattr(torch, self.config.heads_dtype),
                                 extra={"training": {"step": self.step, **(extra or {})}, "config": asdict(self.config)})

    # -- loop ------------------------------------------------------------------------------
    def evaluate(self) -> Optional[Dict]:
        if not self.validation:
            return None
        model = self.unwrapped()
        model.eval()
        scores = validate(model, self.validation, self.config.validation_max_documents, self.config.eval_threshold)
        model.train()
        return scores

    def train(self) -> Dict:
        # one run per output folder: a second one would interleave checkpoints and log rows
        owner = self.write_outputs and self.accelerator.is_main_process
        with exclusive_output(self.output_dir, "--output-dir") if owner else contextlib.nullcontext():
            return self._train()

    def _train(self) -> Dict:
        config, accelerator = self.config, self.accelerator
        if self.write_outputs:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        resumed_from = None
        checkpoint = self.checkpoint_to_resume()  # checked again: the folder may have changed since __init__
        if checkpoint is not None:
            self.load_checkpoint(checkpoint)
            resumed_from = str(checkpoint)
        log = None
        if accelerator.is_main_process and self.write_outputs:
            log = CsvLog(self.output_dir / LOG_FILE, self.step if resumed_from else None)
        if config.tensorboard:
            accelerator.init_trackers("tensorboard")
        kill_at = int(os.environ.get(KILL_AT_STEP_ENV, "0") or 0)
        trainable, total = trainable_parameter_count(self.unwrapped())
        accelerator.print(f"trainable parameters: {trainable:,} of {total:,}; steps {self.step} -> {config.max_steps}")

        from tqdm.auto import tqdm

        bar = tqdm(total=config.max_steps, initial=self.step, desc="train", unit="step", disable=not accelerator.is_local_main_process)
        rank, world = accelerator.process_index, accelerator.num_processes
        batches = self.schedule.batches(start=self.step * config.gradient_accumulation_steps)
        started, window_loss, window_examples, window_count = time.time(), 0.0, 0, 0
        while self.step < config.max_steps:
            micro = [next(batches) for _ in range(config.gradient_accumulation_steps)]
            step_examples = sum(len(examples[rank::world]) for _, examples in micro)
            step_loss = 0.0
            for index, (number, examples) in enumerate(micro):
                mine = examples[rank::world]
                rng = random.Random(f"{config.seed}/labels/{number}/{rank}")
                inputs = {k: v.to(accelerator.device) for k, v in self.collator(mine, rng).items()}
                syncing = index == len(micro) - 1
                context = accelerator.no_sync(self.model) if not syncing and world > 1 else contextlib.nullcontext()
                with context, accelerator.autocast():
                    output = self.model(**inputs, focal_alpha=config.focal_alpha, focal_gamma=config.focal_gamma)
                    # Per-example mean over the optimizer step (sum over spans x types, as the reference).
                    loss = output.loss / step_examples
                accelerator.backward(loss)
                step_loss += float(loss.detach())
            grad_norm = None
            if config.max_grad_norm > 0:
                grad_norm = float(accelerator.clip_grad_norm_(self.model.parameters(), config.max_grad_norm))
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            window_loss += step_loss
            window_examples += step_examples * world
            window_count += 1
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.3f}")
            row = None
            if self.step % config.log_every == 0 or self.step == config.max_steps:
                row = {"step": self.step, "loss": round(window_loss / window_count, 5), "lr_encoder": group_lr(self.optimizer, "encoder"),
                       "lr_heads": group_lr(self.optimizer, "heads"), "grad_norm": grad_norm, "examples": window_examples,
                       "seconds": round(time.time() - started, 2)}
                window_loss, window_examples, window_count = 0.0, 0, 0
            if self.validation and (self.step % config.eval_every == 0 or self.step == config.max_steps):
                if accelerator.is_main_process:
                    scores = self.evaluate()
                    metric = scores["mean_micro_f1"]
                    self.history.append({"step": self.step, **scores})
                    accelerator.print(f"step {self.step}: validation {json.dumps(scores)}")
                    row = row or {"step": self.step, "seconds": round(time.time() - started, 2)}
                    row["metric"] = round(metric, 5)
                    if self.best is None or metric > self.best["metric"]:
                        self.best = {"step": self.step, "metric": metric, "scores": scores}
                        self.save_model("best", extra={"validation": scores})
                accelerator.wait_for_everyone()
            if row is not None and log is not None:
                log.write(row)
                if config.tensorboard:
                    accelerator.log({k: v for k, v in row.items() if isinstance(v, (int, float)) and k != "step"}, step=self.step)
            if self.step % config.save_every == 0 or self.step == config.max_steps:
                self.save_checkpoint()
            if kill_at and self.step == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        bar.close()
        final = None
        if accelerator.is_main_process:
            final = self.save_model("final")
            if self.best is None:  # no validation: the last model is the chosen one
                self.save_model("best")
        if config.tensorboard:
            accelerator.end_training()
        return {"step": self.step, "best": self.best, "final": str(final) if final else None, "resumed_from": resumed_from,
                "seconds": round(time.time() - started, 2)}


def train(config: TrainConfig) -> Dict:
    return Trainer(config).train()
