"""Corrections reach the intent trainer; a supervisor adds a new intent from a few examples."""

import pytest

from tests.conftest import auth
from tests.learning.test_corrections import _conversation

SEED = {
    "refund_initiate": ["I want my money back for this order", "please refund my purchase", "can I get a refund",
                        "refund the jacket I bought", "I need a refund for my order", "give me my money back please"],
    "order_status": ["where is my order", "my package has not arrived yet", "when will my parcel arrive",
                     "track my order please", "has my order shipped", "status of my delivery"],
    "reset_password": ["I forgot my password", "can't log in, reset my password", "password reset link not working",
                       "help me change my password", "I am locked out of my account", "reset password please"],
}


def _publish_model(settings):
    from deskmate.nlp.intent import IntentClassifier
    from deskmate.nlp.intent_store import publish

    texts = [t for ts in SEED.values() for t in ts]
    labels = [label for label, ts in SEED.items() for _ in ts]
    model = IntentClassifier(encoder="minilm", finetune=False, models_dir=settings.models_dir).fit(texts, labels)
    publish(settings, "acme", model)
    return model.version


def test_a_correction_is_in_the_intent_training_data(client, store, workspace):
    from deskmate.nlp.intent_store import labelled_openings

    conv = _conversation(store, workspace, "order_status")
    client.post("/learning/corrections", headers=auth(workspace.tokens["agent"]),
                json={"conversation_id": conv, "reason": "refund_initiate"})
    with store.session() as s:
        texts, labels = labelled_openings(s, workspace.tenant_id)
    pairs = set(zip(texts, labels))
    assert ("I was charged twice for my order and I'm really upset", "refund_initiate") in pairs
    assert not any(label == "order_status" for label in labels)


@pytest.mark.slow
def test_supervisor_adds_a_new_intent(client, settings, workspace):
    supervisor = auth(workspace.tokens["supervisor"])
    examples = ["the jeans are too small for me", "what size should I order, the medium was tight",
                "the shoes run large, which size do I need"]
    missing = client.post("/learning/intents", headers=supervisor, json={"label": "sizing", "examples": examples})
    assert missing.status_code == 404 and "no intent model" in missing.json()["detail"]
    before = _publish_model(settings)
    assert client.post("/learning/intents", headers=auth(workspace.tokens["agent"]),
                       json={"label": "sizing", "examples": examples}).status_code == 403
    few = client.post("/learning/intents", headers=supervisor, json={"label": "sizing", "examples": examples[:2]})
    assert few.status_code == 422 and "at least 3" in few.json()["detail"]
    known = client.post("/learning/intents", headers=supervisor, json={"label": "order_status", "examples": examples})
    assert known.status_code == 422 and "already exists" in known.json()["detail"]
    r = client.post("/learning/intents", headers=supervisor, json={"label": "sizing", "examples": examples})
    assert r.status_code == 201, r.text
    assert r.json()["model_version"] != before
    from deskmate.nlp.intent import load_workspace_intent_model

    model = load_workspace_intent_model(settings, "acme")
    assert model.version == r.json()["model_version"] and "sizing" in set(model.classes_)
    assert model.predict(["these trousers are too small, which size should I get"])[0] == "sizing"
    assert client.get("/learning/intents/proposals", headers=supervisor).json() == []  # no emerging topics yet
