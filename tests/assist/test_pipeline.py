"""Workspace preparation: versions saved and loaded once, re-runs skip unchanged history, fresh articles flow in."""

import pytest

from tests.assist.conftest import open_conversation
from tests.conftest import auth


def test_prepare_is_idempotent_and_versions_load_once(demo):
    from deskmate.assist.bundle import current_version, list_versions, load_models, set_current
    from deskmate.assist.pipeline import prepare_workspace
    from deskmate.errors import NotFound

    first = prepare_workspace(demo.settings, demo.sessionmaker, demo.tenant_id, progress=False)  # other tests added history
    version = current_version(demo.settings, demo.tenant)
    assert version == first.version and version in list_versions(demo.settings, demo.tenant)
    again = prepare_workspace(demo.settings, demo.sessionmaker, demo.tenant_id, progress=False)
    assert again.version == version  # nothing changed since: nothing rebuilt
    models = load_models(demo.settings, demo.tenant)
    assert models is load_models(demo.settings, demo.tenant)  # loaded once per process
    assert models.info["conversations"] > 100 and models.info["reply_bank"] > 20
    assert len(models.passages) > 0 and models.replies.projection_ is not None
    with pytest.raises(NotFound):
        set_current(demo.settings, demo.tenant, "no-such-version")


def test_an_article_published_now_is_suggested_on_the_next_message(demo, demo_client):
    supervisor, agent = auth(demo.tokens["supervisor"]), demo.tokens["agent"]
    r = demo_client.post("/articles", headers=supervisor, json={
        "title": "Alpaca wool pilling", "status": "draft",
        "body": "Alpaca wool jumpers may pill in the first weeks. Offer a fabric comb and care guide; no return needed."})
    assert r.status_code == 201, r.text
    article_id = r.json()["id"]
    conv = open_conversation(demo_client, agent)
    ask = {"role": "customer", "text": "my alpaca wool jumper is pilling already, what can I do?"}
    first = demo_client.post(f"/conversations/{conv['id']}/messages", json=ask, headers=auth(agent)).json()["assist"]
    assert article_id not in [k["article_id"] for k in first["knowledge"]]  # a draft is never suggested
    assert demo_client.patch(f"/articles/{article_id}", json={"status": "published"}, headers=supervisor).status_code == 200
    again = {"role": "customer", "text": "the alpaca jumper pilling is really annoying"}
    second = demo_client.post(f"/conversations/{conv['id']}/messages", json=again, headers=auth(agent)).json()["assist"]
    hit = next(k for k in second["knowledge"] if k["article_id"] == article_id)
    assert "fabric comb" in hit["passage"] and hit["id"].startswith(f"kb:{article_id}:{conv['id']}:")
