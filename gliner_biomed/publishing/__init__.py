"""Publishing to the Hugging Face Hub: model cards, staging + validation of model, dataset,
metric and Space repos, upload, and the local demo Space (`gliner-biomed publish`, `gliner-biomed space`)."""
