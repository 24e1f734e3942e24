"""How one turn changes a conversation's state: the single code path for live assist, training and replay.

Everything here is O(1) in the length of the conversation (running sums, a bounded scan of the
customer's earlier messages for repetition), so the per-message cost stays flat.
"""

from __future__ import annotations

import re
from dataclasses import replace

from deskmate.assist.alerts import ESCALATION_WORDS, repeated_message
from deskmate.assist.state import ConversationState, Turn



_MARK = re.compile(r"\[[A-Z][A-Z_]*\]")
INFORMATIVE_WORDS = 4


def informative(text: str) -> bool:
    """Says something beyond a redacted value or a courtesy ("it's [EMAIL]", "ok thanks")."""
    return len(_MARK.sub(" ", text).split()) >= INFORMATIVE_WORDS


def observe(state: ConversationState, turn: Turn, *, entities: list | None = None) -> None:
    """Fold one turn (with its `vector` set) into the state; the state keeps the turn without its vector."""
    from deskmate.nlp.sentiment import score_message, trajectory

    vector = turn.vector
    if vector is not None:  # folded into the running sums; keeping every vector would grow with the conversation
        turn = replace(turn, vector=None)
    state.turns.append(turn)
    signals = state.signals
    if turn.kind == "action" and turn.action:
        state.actions.append(turn.action)
    elif turn.role == "customer":
        if vector is not None:
            recent = state.recent_customer
            repeat = repeated_message(vector, turn.text, [v for _, v, _ in recent], [t for _, _, t in recent])
            if repeat is not None:
                state.repeat_at[turn.seq] = (recent[repeat[0]][0], repeat[1])
                signals.repeats += 1
            recent.append((turn.seq, vector, turn.text))
        state.customer_texts.append(turn.text)
        sentiment = score_message(turn.text).score
        state.sentiments.append(sentiment)
        traj = trajectory(state.sentiments)
        signals.last_sentiment, signals.lowest_sentiment = sentiment, traj.lowest
        signals.shift, signals.falling = traj.shift, bool(traj.falling)
        signals.customer_messages += 1
        signals.escalation_words += len(ESCALATION_WORDS.findall(turn.text))
    elif turn.role == "agent":
        signals.agent_messages += 1
        if vector is not None:
            state.agent_replies = (state.agent_replies + [vector])[-3:]
    if vector is not None:
        state.context.add(turn.role, turn.kind, vector)
        if turn.role == "customer" and turn.kind == "text" and informative(turn.text):
            state.context.add_topic(vector)
    for entity in entities or ():
        value = entity.value
        if entity.kind == "amount" and isinstance(value, dict):
            value = f"${value.get('amount', 0):.2f}"
        if isinstance(value, str):
            state.remember_entity(entity.kind, value)
    for key, raw in (turn.values or {}).items():  # values an agent typed into an action form
        if key in ("order_id", "account_id", "username", "email") and isinstance(raw, str) and raw and "[" not in raw:
            state.remember_entity(key, raw)
