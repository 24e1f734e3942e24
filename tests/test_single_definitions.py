"""One definition each: the conversation read model's types and the procedure-progress rule live in one module.

Four `Turn` types, several "conversation as plain values" types and four progress rules had grown
apart across assist, outcomes, insights and learning; this walks the source so a new copy fails here.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "deskmate"
HOME = "conversations/transcript.py"

# Files outside conversations/ allowed to name `Message` in a query: they do not read a transcript.
MESSAGE_QUERIES_ALLOWED = {
    "cli.py",  # row counts per table
    "importers/writer.py",  # bulk insert of imported messages
    "nlp/intent_store.py",  # customer openings per reason; to move onto conversations.transcript (owned by nlp)
}


def _definitions() -> dict[str, list[str]]:
    """Classes (at any depth) and module-level functions by name -> the files defining them (methods are not rules
    of their own: `ProcedureProgress.checklist` is the one rule's view)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        tree = ast.parse(path.read_text(), filename=rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                found[node.name].append(rel)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name].append(rel)
    return found


def test_one_turn_one_transcript_one_progress_rule():
    defs = _definitions()
    for name in ("Turn", "Transcript", "CustomerView", "ProcedureProgress", "procedure_progress", "load_transcripts"):
        assert defs[name] == [HOME], f"{name} defined in {defs[name]}, expected only {HOME}"
    # The retired duplicates (and the progress rules they carried) are gone everywhere.
    for name in ("PastTurn", "PastConversation", "SourceConversation", "ConversationView", "checklist"):
        assert not defs.get(name), f"{name} still defined in {defs[name]}"
    progress_like = {n: files for n, files in defs.items() if re.search(r"(?i)procedure_?progress|^_?checklist$", n)}
    assert progress_like == {"procedure_progress": [HOME], "ProcedureProgress": [HOME]}, progress_like


def test_transcripts_are_read_through_the_read_model():
    query = re.compile(r"select\([^)]*\bMessage\b|\bMessage\.(?:conversation_id|seq|role|kind|text|action)\b")
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("conversations/") or rel.startswith("migrations/") or rel in MESSAGE_QUERIES_ALLOWED:
            continue
        if query.search(path.read_text()):
            offenders.append(rel)
    assert offenders == [], f"read messages through deskmate.conversations.transcript instead: {offenders}"
