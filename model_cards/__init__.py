"""Jinja templates of the Hub cards (rendered by gliner_biomed.publishing.model_card)."""
