"""Few-shot adaptation: LoRA adapters (or full fine-tuning) of a GLiNER model from K examples
per entity type, and the few-shot curve (strict micro-F1 against K, seeded repeats)."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from ..output_lock import exclusive_output
from .config import TrainConfig, add_config_arguments
from .data import SourceSpec, corpus_types, few_shot_sample, load_source


@dataclass
class AdaptConfig:
    model: Optional[str] = None  # GLiNER model folder or adapter package; None: the shipped default model
    data: str = "ncbi-disease:train"  # CORPUS[:SPLIT] the K-shot examples are drawn from
    shots: int = 5  # examples per entity type
    lora_r: int = 8  # a new adapter's rank; an adapter package's own adapter trains on at its rank
    lora_alpha: int = 16
    train_heads: bool = True
    steps: int = 30
    batch_size: int = 8
    lr_encoder: float = 5e-4  # LoRA learning rate (full fine-tuning uses lr_full_encoder)
    lr_heads: float = 1e-4
    lr_full_encoder: float = 2e-5
    eval: Optional[str] = None  # CORPUS[:SPLIT] scored after training (default: the data corpus's test split)
    eval_max_documents: Optional[int] = 50
    threshold: float = 0.5
    compare_full: bool = False  # also fine-tune the whole model on the same K-shot examples
    seed: int = 0
    out: str = "runs/adapt"
    threads: Optional[int] = None


def default_model_path() -> str:
    from gliner_biomed.models import resolve_model_path

    return resolve_model_path(None)


def shot_examples(config: AdaptConfig) -> List[Dict]:
    spec = SourceSpec.parse(config.data)
    pool = load_source(spec, "sentence", 128, config.seed)
    return few_shot_sample(pool, config.shots, config.seed)


def evaluation_dataset(config: AdaptConfig):
    from gliner_biomed.evaluation.suites import SuiteDataset

    target = config.eval or f"{SourceSpec.parse(config.data).corpus}:test"
    corpus, split = (target.split(":", 1) + ["test"])[:2]
    return SuiteDataset(corpus=corpus, split=split)


def score(model, config: AdaptConfig) -> float:
    from .validation import validate

    dataset = evaluation_dataset(config)
    scores = validate(model, [dataset], config.eval_max_documents, config.threshold, seed=13)
    return scores[f"{dataset.corpus}/{dataset.split}"]


def continues_its_adapter(model: str) -> bool:
    """An adapter package over a plain encoder (the shipped default model) is adapted by training
    its own adapter on: the result is again a standard PEFT adapter of that encoder (its Hub id),
    which plain ``PeftModel.from_pretrained`` loads; a new adapter over the merged model would name
    a base that exists nowhere. Its rank is then the package's (lora_r/lora_alpha do not apply)."""
    from .adapter_format import is_adapter_package, read_package

    return is_adapter_package(model) and "base_encoder" in read_package(model)


def train_config(config: AdaptConfig, lora: bool, output_dir: str) -> TrainConfig:
    model = config.model or default_model_path()
    return TrainConfig(
        init_model=model, continue_adapter=lora and continues_its_adapter(model),
        lora=lora, lora_r=config.lora_r, lora_alpha=config.lora_alpha,
        train_heads=config.train_heads, data=[config.data], max_steps=config.steps, batch_size=config.batch_size,
        lr_encoder=config.lr_encoder if lora else config.lr_full_encoder, lr_heads=config.lr_heads, warmup_ratio=0.1,
        scheduler="linear", save_every=config.steps, eval_every=config.steps, log_every=max(1, config.steps // 5),
        output_dir=output_dir, seed=config.seed, threads=config.threads, dropout=0.4, keep_checkpoints=1,
    )


def adapt(config: AdaptConfig) -> Dict:
    """Trains the adapter (and, with compare_full, a fully fine-tuned copy) and scores them;
    writes ``out/adapter`` (loadable with load_model, mergeable) and ``out/results.json``."""
    from gliner_biomed.models import load_model

    from .loop import Trainer
    from .packaging import save_model_folder

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    examples = shot_examples(config)
    result: Dict = {"config": config.__dict__, "examples": len(examples),
                    "entity_types": sorted({t for e in examples for _, _, t in e["ner"]})}
    if config.shots == 0:
        result["lora_f1"] = result["base_f1"] = score(load_model(config.model).eval(), config)
        return _write_results(out, result)
    for lora in ([True, False] if config.compare_full else [True]):
        name = "lora" if lora else "full"
        with tempfile.TemporaryDirectory(dir=out) as work:
            started = time.time()
            trainer = Trainer(train_config(config, lora, work), examples=_with_corpus_types(examples, config), write_outputs=False)
            trainer.train()
            model = trainer.unwrapped().eval()
            result[f"{name}_seconds"] = round(time.time() - started, 2)
            result[f"{name}_f1"] = score(model, config)
            if lora:
                save_model_folder(model, out / "adapter", base=trainer.base, extra={"adapt": config.__dict__})
    return _write_results(out, result)


def _with_corpus_types(examples: List[Dict], config: AdaptConfig) -> List[Dict]:
    types = corpus_types(SourceSpec.parse(config.data).corpus)
    return [{**example, "corpus_types": types} for example in examples]


def _write_json(path: Path, value: Dict) -> None:
    from gliner_biomed.atomic_files import atomic_writer

    with atomic_writer(path) as handle:
        handle.write(json.dumps(value, indent=2, default=str) + "\n")


def _write_results(out: Path, result: Dict) -> Dict:
    _write_json(out / "results.json", result)
    return result


# -- few-shot curve -------------------------------------------------------------------------
@dataclass
class CurveConfig:
    model: Optional[str] = None
    corpora: List[str] = field(default_factory=lambda: ["ncbi-disease", "biored"])
    shots: List[int] = field(default_factory=lambda: [0, 1, 5, 10, 50])
    seeds: List[int] = field(default_factory=lambda: [0, 1, 2])
    steps: int = 30
    batch_size: int = 8
    lora_r: int = 8
    eval_max_documents: Optional[int] = 50
    threshold: float = 0.5
    out: str = "runs/few_shot_curve"
    threads: Optional[int] = None


def few_shot_curve(config: CurveConfig) -> Dict:
    """Strict micro-F1 on each corpus's test split (sub-sampled to eval_max_documents) after LoRA
    adaptation on K-shot samples of its train split; mean and standard deviation over seeds
    (K=0: the model as is, one run). Writes out/few_shot_curve.json and .png."""
    out = Path(config.out)
    with exclusive_output(out, "--out"):  # runs.jsonl is appended to: one run per folder
        return _few_shot_curve_unlocked(config, out)


def _few_shot_curve_unlocked(config: CurveConfig, out: Path) -> Dict:
    from tqdm.auto import tqdm

    out.mkdir(parents=True, exist_ok=True)
    runs_file = out / "runs.jsonl"
    done = {}
    if runs_file.is_file():  # resumable: every finished (corpus, K, seed) is kept
        for line in runs_file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            done[(row["corpus"], row["shots"], row["seed"])] = row
    plan = [(c, k, s) for c in config.corpora for k in config.shots for s in (config.seeds[:1] if k == 0 else config.seeds)]
    for corpus, shots, seed in tqdm(plan, desc="few-shot curve", unit="run"):
        if (corpus, shots, seed) in done:
            continue
        run = AdaptConfig(model=config.model, data=f"{corpus}:train", shots=shots, lora_r=config.lora_r, lora_alpha=2 * config.lora_r,
                          steps=config.steps, batch_size=config.batch_size, eval_max_documents=config.eval_max_documents,
                          threshold=config.threshold, seed=seed, out=str(out / "work" / f"{corpus}-k{shots}-s{seed}"), threads=config.threads)
        result = adapt(run)
        row = {"corpus": corpus, "shots": shots, "seed": seed, "f1": result["lora_f1"], "examples": result["examples"]}
        with open(runs_file, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
        done[(corpus, shots, seed)] = row
    summary = {"config": config.__dict__, "curves": {}}
    for corpus in config.corpora:
        points = []
        for shots in config.shots:
            values = [done[(corpus, shots, s)]["f1"] for s in config.seeds if (corpus, shots, s) in done]
            points.append({"shots": shots, "mean_f1": statistics.mean(values), "std_f1": statistics.pstdev(values) if len(values) > 1 else 0.0,
                           "runs": len(values), "f1": values})
        summary["curves"][corpus] = points
    _write_json(out / "few_shot_curve.json", summary)
    plot_curve(summary, out / "few_shot_curve.png")
    return summary


def plot_curve(summary: Dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for corpus, points in summary["curves"].items():
        xs = list(range(len(points)))
        means = [p["mean_f1"] for p in points]
        stds = [p["std_f1"] for p in points]
        axis.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=corpus)
    first = next(iter(summary["curves"].values()))
    axis.set_xticks(range(len(first)), [str(p["shots"]) for p in first])
    axis.set_xlabel("K (examples per entity type)")
    axis.set_ylabel("strict micro-F1 (test)")
    axis.set_title("Few-shot LoRA adaptation")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    tmp = path.with_name(f".{path.stem}.tmp.png")
    figure.savefig(tmp, dpi=120)
    plt.close(figure)
    tmp.replace(path)


# -- command line ---------------------------------------------------------------------------
def register_adapt(subparsers, formatter) -> None:
    parser = subparsers.add_parser(
        "adapt", formatter_class=formatter,
        help="few-shot LoRA adapter on a model's encoder from K examples per entity type (optionally vs full fine-tuning)",
    )
    add_config_arguments(parser, AdaptConfig)
    parser.set_defaults(func=_run_adapt)


def register_few_shot_curve(subparsers, formatter) -> None:
    parser = subparsers.add_parser(
        "few-shot-curve", formatter_class=formatter,
        help="strict micro-F1 against K (examples per type) after LoRA adaptation, seeded repeats; JSON + PNG",
    )
    add_config_arguments(parser, CurveConfig)
    parser.set_defaults(func=_run_curve)


def _from_args(args, config_class):
    import dataclasses

    from .config import load_config

    return load_config(None, {f.name: getattr(args, f.name, None) for f in dataclasses.fields(config_class)}, config_class)


def _apply_threads(config) -> None:
    if config.threads:
        import torch

        torch.set_num_threads(config.threads)


def _run_adapt(args) -> int:
    config = _from_args(args, AdaptConfig)
    _apply_threads(config)
    print(json.dumps(adapt(config), indent=2, default=str))
    return 0


def _run_curve(args) -> int:
    config = _from_args(args, CurveConfig)
    _apply_threads(config)
    summary = few_shot_curve(config)
    print(json.dumps(summary["curves"], indent=2))
    return 0
