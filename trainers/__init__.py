"""Trainers: the Accelerate training loop (``gliner-biomed train``), few-shot LoRA adaptation
(``adapt``, ``few-shot-curve``) and the adapter packages they write (the shipped default model
is one; ``export-default`` turns it into a standalone model folder)."""
