"""GLiNER span models as transformers models.

This folder is copied verbatim into every converted model repository for
``trust_remote_code``: modules here import only torch, transformers and each other
(relative imports).
"""
