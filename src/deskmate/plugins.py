"""Who listens to what, in what order: the one place Deskmate's domains are wired to each other.

Conversation events (declared in `deskmate.conversations.events`) and the batch steps of
`deskmate prepare` (run by `deskmate.prepare`) are registered here explicitly, in the order they
run. The app factory and the CLI build their plugin manager with `default_events(settings)`;
another listener (a site's own plugin, a test's recorder) is one `pm.register(...)` away.
"""

from __future__ import annotations

from deskmate.conversations.events import Events, make_plugin_manager


def register_default_listeners(pm: Events, settings) -> Events:
    """Register Deskmate's own listeners on `pm`, each built with `settings`; they run in this order."""
    from deskmate.assist.hooks import LiveAssist
    from deskmate.insights.hooks import InsightRecords
    from deskmate.learning.hooks import LearningLoop
    from deskmate.outcomes.hooks import OutcomeScoring

    # message_appended: the next assist update of the conversation.
    pm.register(LiveAssist(settings), name="assist")
    # conversation_closed: scores first, then the insight record (which carries them), then the
    # learning join (feedback joined to the scored outcome). conversation_relabelled: learning.
    pm.register(OutcomeScoring(settings), name="outcomes")
    pm.register(InsightRecords(settings), name="insights")
    pm.register(LearningLoop(settings), name="learning")
    return pm


def default_events(settings) -> Events:
    """A plugin manager with Deskmate's own listeners."""
    return register_default_listeners(make_plugin_manager(), settings)


def default_prepare_steps() -> list:
    """The steps of `deskmate prepare`, in the order they run (each idempotent, each may use the ones before)."""
    from deskmate.assist import pipeline as assist
    from deskmate.insights import pipeline as insights
    from deskmate.learning import pipeline as learning
    from deskmate.nlp import pipeline as nlp
    from deskmate.outcomes import pipeline as outcomes
    from deskmate.prepare import PrepareStep
    from deskmate.reasons.service import prepare_reasons

    return [
        # where conversations carry no reason, discovered topics become reasons, so the intent model has labels
        PrepareStep("reasons", prepare_reasons),
        PrepareStep("nlp", nlp.prepare_workspace),  # the workspace's intent model
        PrepareStep("assist", assist.prepare_workspace),  # indexes and assist models (uses the intent model)
        PrepareStep("outcomes", outcomes.prepare_workspace),  # scores history
        PrepareStep("insights", insights.prepare_workspace),  # records (carry the scores and predicted outcomes), topics
        PrepareStep("learning", learning.prepare_workspace),  # feedback joined to outcomes, gap drafts, first ranker
    ]
