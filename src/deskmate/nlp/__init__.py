"""Language understanding shared by live assist, scoring and insights.

Submodules are imported explicitly (`deskmate.nlp.pii`, `deskmate.nlp.sentiment`,
`deskmate.nlp.entities`, `deskmate.nlp.encoder`, `deskmate.nlp.intent`) so that
the cheap text layers never pay for loading PyTorch or a sentence encoder.
"""
