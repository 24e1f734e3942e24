"""Bring a support team's history into Deskmate: one importer per source format, one interface.

    importer = get_importer("zendesk")
    summary = run_import(sessionmaker, tenant_id=t.id, importer=importer, path="tickets.json")

Every source parses into the same records and goes through the same batched,
idempotent writer (see `writer.py`): re-running an import changes nothing, a
changed record updates in place, and an import killed half-way resumes cleanly.
"""

from __future__ import annotations

from importlib import import_module

from deskmate.errors import InvalidInput
from deskmate.importers.base import BatchResult, Importer, ImportSummary, Parsed, SourceFile
from deskmate.importers.records import ConversationImport, ConversationRecord
from deskmate.importers.runner import import_records, run_import

# source name -> "module:Class"; importing lazily keeps `deskmate --help` fast.
IMPORTERS = {
    "abcd": "deskmate.importers.abcd:AbcdImporter",
    "abcd-guidelines": "deskmate.importers.abcd_knowledge:GuidelinesImporter",
    "abcd-kb": "deskmate.importers.abcd_knowledge:KbImporter",
    "chatwoot": "deskmate.importers.chatwoot:ChatwootImporter",
    "csv": "deskmate.importers.csv_rows:CsvImporter",
    "jsonl": "deskmate.importers.jsonl:JsonlImporter",
    "zendesk": "deskmate.importers.zendesk:ZendeskImporter",
}


def get_importer(source: str) -> Importer:
    """The importer for a source name; an unknown name is the user's to fix, so it lists the known ones."""
    target = IMPORTERS.get(source.strip().lower())
    if target is None:
        raise InvalidInput(f"unknown import source {source!r}; choose one of: {', '.join(IMPORTERS)}")
    module, cls = target.split(":")
    return getattr(import_module(module), cls)()


__all__ = [
    "IMPORTERS", "BatchResult", "ConversationImport", "ConversationRecord", "Importer", "ImportSummary", "Parsed",
    "SourceFile", "get_importer", "import_records", "run_import",
]
