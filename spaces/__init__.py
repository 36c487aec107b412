"""Hugging Face Space folders (each one is uploaded as is by `gliner-biomed publish --space`)."""
