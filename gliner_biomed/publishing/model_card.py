"""The model card (README.md of a model repo), filled from data, never typed by hand: the model
folder (config, weights, training record), the evaluation harness's results.json files, and the
few-shot curve written by `gliner-biomed few-shot-curve`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..evaluation.report import markdown_table
from ..errors import BadInputError
from ..trainers.adapter_format import PACKAGE_FILE
from .local_state import hub_model_id

TEMPLATE_PACKAGE = "gliner_biomed.model_cards"
MODEL_CARD_TEMPLATE = "templates/model_card.md.jinja"
FEW_SHOT_IMAGE = "few_shot_curve.png"
TRAINING_INFO_FILE = "training_info.json"
PAPER_ARXIV = "2504.00676"
PIPELINE_TAG = "token-classification"  # the task name the model's custom pipeline is registered under
# The span_ner scores of results.json listed in the card's model-index: (metric_config, key of the
# scheme in a dataset row's scores, None for strict, metric_name). All are micro-F1.
MODEL_INDEX_METRICS = (
    ("strict", None, "Strict micro-F1"),
    ("exact_boundary", "exact_boundary", "Relaxed micro-F1 (exact boundary, any type)"),
    ("partial_overlap", "partial_overlap", "Relaxed micro-F1 (partial overlap)"),
)


class CardError(BadInputError):
    """Input of the card that is missing or malformed (names the file)."""


@dataclass(frozen=True)
class ModelCardOptions:
    repo_id: str = "ORG/NAME"
    results: Sequence[str] = ()  # results.json files of `gliner-biomed evaluate`
    few_shot_curve: Optional[str] = None  # folder (or JSON file) of `gliner-biomed few-shot-curve`
    license: str = "apache-2.0"
    license_note: str = ""
    base_encoder: Optional[str] = None  # Hub id of the encoder, when the config only knows a local path
    datasets: Sequence[str] = ()  # Hub ids of the training datasets (metadata links); corpus names stay in the text
    title: Optional[str] = None


@dataclass
class RenderedCard:
    card: ModelCard
    extra_files: Dict[str, Path] = field(default_factory=dict)  # repo path -> source file (e.g. the curve image)


def _human(count: float, units: Sequence[str], step: float = 1000.0) -> str:
    for unit in units:
        if abs(count) < step or unit == units[-1]:
            return f"{count:.1f}{unit}" if unit else f"{count:.0f}"
        count /= step
    raise AssertionError("unreachable")


def _read_json(path: Path, what: str) -> Dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CardError(f"{what} not found: {path}") from None
    except json.JSONDecodeError as error:
        raise CardError(f"{path}: not valid JSON ({error})") from None


def count_parameters(folder: Path) -> Dict:
    """Parameters and size of the weights, read from the safetensors headers (no tensors loaded)."""
    from safetensors import safe_open

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise CardError(f"{folder}: no *.safetensors weights")
    total = 0
    for path in files:
        with safe_open(str(path), framework="numpy") as handle:  # "pt" would import torch for shapes alone
            for name in handle.keys():
                total += _numel(handle.get_slice(name).get_shape())
    size = sum(path.stat().st_size for path in files)
    return {
        "parameters": f"{total:,}",
        "parameters_human": _human(total, ["", "K", "M", "B"]),
        "weights_file": ", ".join(path.name for path in files),
        "weights_size_human": _human(size, ["B", "KB", "MB", "GB"], 1024.0),
    }


def _numel(shape) -> int:
    count = 1
    for dim in shape:
        count *= int(dim)
    return count


def encoder_name(name_or_path: str, override: Optional[str]) -> str:
    hub_id = override or hub_model_id(name_or_path)
    if hub_id:
        return f"[{hub_id}](https://huggingface.co/{hub_id})"
    path = Path(name_or_path or "unknown")
    return f"`{path.parent.name if path.name == 'model' else path.name}` (local encoder)"


def architecture(folder: Path, base_encoder: Optional[str]) -> Dict:
    config = _read_json(folder / "config.json", "model config")
    encoder = config.get("encoder_config") or {}
    labels_encoder = config.get("labels_encoder_config")
    model_class = (config.get("architectures") or ["GLiNER"])[0]
    bi = labels_encoder is not None
    return {
        "model_class": model_class,
        "kind": "bi-encoder" if bi else "uni-encoder",
        "kind_description": "bi-encoder: text and entity types encoded separately, type embeddings can be cached"
        if bi
        else "uni-encoder: text and entity-type prompts encoded together",
        "base_encoder": encoder_name(encoder.get("_name_or_path", ""), base_encoder),
        "base_model_id": base_encoder or hub_model_id(encoder.get("_name_or_path")),
        "encoder_model_type": encoder.get("model_type", "?"),
        "encoder_layers": encoder.get("num_hidden_layers", "?"),
        "encoder_hidden_size": encoder.get("hidden_size", "?"),
        "labels_encoder": encoder_name(labels_encoder.get("_name_or_path", ""), None) if bi else None,
        "hidden_size": config.get("hidden_size"),
        "max_width": config.get("max_width"),
        "max_len": config.get("max_len"),
        "window_overlap": config.get("window_overlap"),
        "max_types": config.get("max_types"),
        **count_parameters(folder),
    }


def training_record(source: Path) -> Optional[Dict]:
    """What the trainers recorded: `training` (step, validation) and `config` (TrainConfig)."""
    for name in (PACKAGE_FILE, TRAINING_INFO_FILE):
        if (source / name).is_file():
            record = _read_json(source / name, "training record")
            if "config" in record:
                return record
    return None


def adapter_rank(source: Path) -> Optional[Tuple[int, int]]:
    """(r, alpha) of the LoRA adapter a package ships (``encoder_adapter/adapter_config.json``):
    what was trained, also where the config continued an init model's adapter (``continue_adapter``)
    and its own ``lora_r`` went unused."""
    path = source / "encoder_adapter" / "adapter_config.json"
    if not path.is_file():
        return None
    adapter = _read_json(path, "adapter config")
    return int(adapter["r"]), int(adapter["lora_alpha"])


def _labels_description(config: Dict) -> str:
    if not config.get("type_vocabulary"):
        return "natural-language labels from each corpus's label map"
    parts = ["paraphrases of each type", "negative types checked against each corpus's annotation policy"]
    if config.get("contrast_types"):
        parts.append("contrast types judged on the gold mentions only")
    if config.get("mixed_corpus_batches"):
        parts.append("batches mixing corpora")
    if config.get("pair_examples"):
        parts.append(f"{config['pair_examples']:.0%} of the examples paired with a sentence of another corpus in one input")
    return "entity-type prompts phrased from the project's type vocabulary: " + ", ".join(parts)


def describe_training(record: Optional[Dict], source: Optional[Path] = None) -> Optional[Dict]:
    if record is None:
        return None
    config, training = record["config"], record.get("training", {})
    stages = []
    if config.get("init_model"):
        stages.append({"name": "Initialization", "text": f"from the GLiNER model `{Path(config['init_model']).name}`"})
    rank = adapter_rank(source) if source is not None else None
    r, alpha = rank or (config.get("lora_r"), config.get("lora_alpha"))
    adapter = "the initial model's LoRA adapter on the encoder, trained on" if config.get("continue_adapter") else "LoRA on the encoder"
    method = f"{adapter} (r={r}, alpha={alpha}) and full training of the span/label heads" if config.get("lora") else "full fine-tuning"
    negatives = " with corpus negatives" if config.get("corpus_negatives") and not config.get("type_vocabulary") else ""
    objective = (f"; loss weighing positives {config['focal_alpha']} / negatives {1 - config['focal_alpha']:.2f}"
                 if isinstance(config.get("focal_alpha"), (int, float)) and config["focal_alpha"] >= 0 else "")
    stages.append({
        "name": "Supervised span training",
        "text": f"{training.get('step', '?')} steps, {method}; {config.get('level', '?')}-level examples of up to "
                f"{config.get('max_words', '?')} words, up to {config.get('max_types', '?')} entity types per example"
                f"{negatives}; learning rates {config.get('lr_encoder')} (encoder) / {config.get('lr_heads')} (heads){objective}.",
    })
    if isinstance(training.get("seconds"), (int, float)):
        where = f" on {training['hardware']}" if training.get("hardware") else ""
        stages.append({"name": "Time", "text": f"{training['seconds'] / 60:.0f} minutes{where}"})
    validation = {k: float(v) for k, v in (training.get("validation") or {}).items() if isinstance(v, (int, float))}
    return {
        "description": "Trained with `gliner-biomed train` on the public corpora built by `gliner-biomed datasets build` "
                       f"({_labels_description(config)}).",
        "stages": stages,
        "data": list(config.get("data") or []),
        "validation": validation,
    }


def read_results(path: Path) -> Dict:
    results = _read_json(path, "evaluation results")
    for key in ("suite", "datasets", "average", "threshold"):
        if key not in results:
            raise CardError(f"{path}: no {key!r}; is this a results.json written by `gliner-biomed evaluate`?")
    return results


def eval_results(path: Path, dataset_repos: Sequence[str] = ()) -> List[EvalResult]:
    """The model-index entries of one results.json: per evaluated dataset, its strict and relaxed
    micro-F1. A dataset is named by the Hub repo among ``dataset_repos`` whose name is the corpus
    name, else by the corpus name; a sub-sampled evaluation, or one that asks its types under other
    names (``label_prompts``), says so in ``dataset_args``."""
    results = read_results(path)
    repos = {repo.split("/")[-1]: repo for repo in dataset_repos}
    entries = []
    for row in results["datasets"]:
        try:
            args = {"num_documents": row["num_documents"], "num_documents_total": row["num_documents_total"]} if row["sampled"] else {}
            if row.get("label_prompts"):
                args["label_prompts"] = row["label_prompts"]
            # The Hub groups model-index results by (task, dataset type, config, split): a second
            # evaluation of the same corpus (the unseen-types suite's "ncbi-disease-paraphrased") needs
            # a config of its own, or its scores are listed under the first one's name.
            dataset_config = row["level"] if row["name"] == row["corpus"] else f"{row['level']}/{row['name']}"
            for config, scheme, name in MODEL_INDEX_METRICS:
                scores = row["scores"] if scheme is None else row["scores"][scheme]
                entries.append(EvalResult(
                    task_type=PIPELINE_TAG, task_name="Named entity recognition",
                    dataset_type=repos.get(row["corpus"], row["corpus"]), dataset_name=row["name"],
                    dataset_config=dataset_config, dataset_split=row["split"], dataset_args=args or None,
                    metric_type="f1", metric_name=name, metric_config=config, metric_value=float(scores["micro_f1"]),
                ))
        except KeyError as error:
            raise CardError(f"{path}: dataset row {row.get('name')!r} has no {error}; is this a results.json written by `gliner-biomed evaluate`?") from None
    return entries


def evaluation_section(path: Path) -> Dict:
    results = read_results(path)
    started = results.get("started_at")
    return {
        "suite": results["suite"]["name"],
        "suite_description": results["suite"].get("description", ""),
        "threshold": float(results["threshold"]),
        "threshold_source": results.get("threshold_source", "given"),
        "commit": (results.get("commit") or "unknown")[:12],
        "dirty": bool(results.get("commit_dirty")),
        "date": started[:10] if started else "an unrecorded date",
        "table": markdown_table(results),
        "file_name": Path(path).name,
        "average_f1": float(results["average"]["micro_f1"]),
    }


def few_shot_section(source: Path) -> Dict:
    source = Path(source)
    folder = source if source.is_dir() else source.parent
    summary = _read_json(folder / "few_shot_curve.json" if source.is_dir() else source, "few-shot curve")
    image = folder / FEW_SHOT_IMAGE
    if not image.is_file():
        raise CardError(f"few-shot curve image not found: {image}")
    curves = summary.get("curves") or {}
    if not curves:
        raise CardError(f"{folder}: few_shot_curve.json has no curves")
    shots = [point["shots"] for point in next(iter(curves.values()))]
    return {"image": FEW_SHOT_IMAGE, "image_path": image, "shots": shots, "curves": curves}


def render_model_card(model_dir, options: ModelCardOptions = ModelCardOptions(), training_source=None) -> RenderedCard:
    """The card of the model folder ``model_dir`` (full weights); ``training_source`` is where the
    training record lives when it differs (an adapter package exported to full weights)."""
    model_dir = Path(model_dir)
    arch = architecture(model_dir, options.base_encoder)
    record_dir = Path(training_source or model_dir)
    training = describe_training(training_record(record_dir), record_dir)
    evaluations = [evaluation_section(Path(path)) for path in options.results]
    few_shot = few_shot_section(Path(options.few_shot_curve)) if options.few_shot_curve else None
    name = options.repo_id.split("/")[-1]
    card_data = ModelCardData(
        model_name=options.title or name,
        license=options.license,
        language=["en"],
        library_name="transformers",
        pipeline_tag=PIPELINE_TAG,
        tags=["gliner", "gliner-biomed", "named-entity-recognition", "biomedical", "span-ner", arch["kind"], "custom_code"],
        base_model=arch["base_model_id"],
        datasets=list(options.datasets) or None,
        eval_results=[entry for path in options.results for entry in eval_results(Path(path), options.datasets)] or None,
    )
    card = ModelCard.from_template(
        card_data,
        template_str=(resources.files(TEMPLATE_PACKAGE) / MODEL_CARD_TEMPLATE).read_text(encoding="utf-8"),
        title=options.title or name,
        summary=f"A GLiNER-biomed {arch['kind']} span model for open biomedical named-entity recognition "
                f"({arch['parameters_human']} parameters).",
        arch=arch,
        training=training,
        evaluations=evaluations,
        few_shot=few_shot,
        repo_id=options.repo_id,
        license=options.license,
        license_note=options.license_note,
        arxiv=PAPER_ARXIV,
        rendered_at=datetime.now().strftime("%Y-%m-%d"),
    )
    extra = {FEW_SHOT_IMAGE: few_shot["image_path"]} if few_shot else {}
    return RenderedCard(card, extra)
