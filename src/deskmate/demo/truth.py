"""The demo's ground truth on disk: what really happened in each generated conversation.

Benchmarks and tests score Deskmate against it (resolution, policy adherence, the
emerging issue, the held-back articles); nothing in the store is derived from it.

Shape of `truth.json`:
  seed, reference_date, period {start, end}, options {...}
  conversations {external_id: {outcome, reason, agent, customer, started_at, skipped [actions],
                 out_of_order [{action, ahead_of [actions]}], policy_ok, actions_taken, procedure_complete,
                 blocker, emerging, reopen_of, reopened_by, vague_opening, start_mood, end_mood, repeats,
                 article, order_id, live}}
  emerging_issue {topic, product, reason, start_date, phrases, record_reason, external_ids, daily_counts}
  held_back_articles [{external_id, title, body, reason, tags}]
  agents [{id, name, skip, empathy, slowness, care, skill}]
  procedures [{reason, name, actions, article, steps [{action, values}]}]
  live [canonical records not imported, for replays]
"""

from __future__ import annotations

import json
from pathlib import Path

from deskmate.config import Settings
from deskmate.errors import NotFound


def demo_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "demo"


def truth_path(settings: Settings) -> Path:
    return demo_dir(settings) / "truth.json"


def write_truth(settings: Settings, truth: dict, *, tenant: str) -> Path:
    path = truth_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({**truth, "tenant": tenant}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)  # readers never see half a file
    return path


def load_truth(settings: Settings) -> dict:
    """The ground truth of the last `deskmate demo` build in this data directory."""
    path = truth_path(settings)
    if not path.exists():
        raise NotFound(f"no demo ground truth at {path}: run 'deskmate demo --no-serve' first")
    return json.loads(path.read_text(encoding="utf-8"))
