"""The outcome pages (team view, agent scorecard with coaching, conversation scorecard) in Debian's Chromium."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


def _pct(v) -> str:
    """What the pages' `pct` macro shows."""
    return "–" if v is None else f"{100 * v:.0f}%"


def _api(live, path: str, role: str = "supervisor") -> dict:
    r = httpx.get(f"{live['url']}{path}", headers={"Authorization": f"Bearer {live['token'](role)}"})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def scored(live_server):
    """The small demo ships unscored; a supervisor scores its history through the public API."""
    headers = {"Authorization": f"Bearer {live_server['token']('supervisor')}"}
    r = httpx.post(f"{live_server['url']}/outcomes/score", json={}, headers=headers, timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["scored"] > 20
    return live_server


def _watch(page) -> dict:
    """Console errors, uncaught exceptions, failed or erroring requests, and every requested URL."""
    seen = {"errors": [], "urls": [], "failed": []}
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(f"{m.text} ({m.location.get('url')})"))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["urls"].append(r.url))
    # A request the browser itself cancels because the page navigated on (ERR_ABORTED: the favicon of the page
    # being left, on a busy machine) is not a failure of the page; every other failure is.
    page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "") and seen["failed"].append((r.url, r.failure)))
    page.on("response", lambda r: r.status >= 400 and seen["failed"].append((r.url, r.status)))
    return seen


def _clean(seen: dict, base: str) -> None:
    assert seen["urls"], "no request was recorded"
    assert not seen["errors"], seen["errors"]
    assert not seen["failed"], seen["failed"]
    offsite = [u for u in seen["urls"] if not (u.startswith(base + "/") or u.startswith("data:") or u == "about:blank")]
    assert not offsite, f"requests left the live server: {offsite}"


def _wait_for_plot(page, chart_id: str) -> None:
    page.wait_for_function("id => { const el = document.getElementById(id);"
                           " return !!(el && el.data && el.querySelector('svg.main-svg')); }", arg=chart_id)


def _trace_len(page, chart_id: str) -> int:
    return page.evaluate(f"document.getElementById('{chart_id}').data[0].x.length")


def _headline(page) -> str:
    return page.inner_text("[data-testid=headline]")


def test_team_page_shows_the_store_figures_offline(scored, new_page):
    base = scored["url"]
    team = _api(scored, "/outcomes/team?since=90d")
    page = new_page()
    seen = _watch(page)
    sign_in(page, base, scored["token"]("supervisor"), "/outcomes")
    assert page.url == f"{base}/outcomes"
    page.wait_for_selector("[data-testid=headline]")
    head = _headline(page)
    assert f"{team['conversations']} conversations" in head
    assert _pct(team["resolution_rate"]) in head and f"reopened {_pct(team['reopen_rate'])}" in head
    assert f"{team['quality']['median']:.1f}" in head

    # One row per agent, in the API's order, with the API's counts and rates.
    rows = page.locator("[data-testid=agents] tbody tr")
    assert rows.count() == len(team["agents"]) > 1
    for i, a in enumerate(team["agents"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == a["agent"]["name"] and cells[1] == str(a["conversations"]), cells
        assert cells[2] == _pct(a["resolution_rate"]) and cells[7] == _pct(a["policy_adherence"]), cells

    # The three charts are drawn by the bundled plotly, from the same data.
    for chart in ("trend-chart", "quality-chart", "criteria-chart"):
        _wait_for_plot(page, chart)
    assert _trace_len(page, "trend-chart") == len(team["trend"]) > 1
    histogram = page.evaluate("document.getElementById('quality-chart').data[0].y")
    assert histogram == team["quality"]["histogram"] and sum(histogram) == team["conversations"]
    judged = [c for c in team["criteria"] if c["pass_rate"]]
    assert page.evaluate("document.getElementById('criteria-chart').data[0].y") == [c["label"] for c in judged]
    assert any(u.endswith("/static/vendor/plotly.min.js") for u in seen["urls"])
    _clean(seen, base)


def test_period_filter_changes_the_figures(scored, new_page):
    base = scored["url"]
    month, everything = _api(scored, "/outcomes/team?since=30d"), _api(scored, "/outcomes/team")
    assert month["conversations"] < everything["conversations"], "the demo should span more than 30 days"
    page = new_page()
    seen = _watch(page)
    sign_in(page, base, scored["token"]("supervisor"), "/outcomes")
    select = page.locator("select[name=since]")
    assert select.input_value() == "90d"

    with page.expect_navigation():
        select.select_option("30d")
    assert page.url.endswith("/outcomes?since=30d")
    assert page.locator("select[name=since]").input_value() == "30d"
    assert f"{month['conversations']} conversations" in _headline(page)
    assert page.locator("[data-testid=agents] tbody tr").count() == len(month["agents"])
    _wait_for_plot(page, "trend-chart")
    assert _trace_len(page, "trend-chart") == len(month["trend"])
    # The agent links carry the period along.
    assert page.locator("[data-testid=agents] tbody a").first.get_attribute("href").endswith("?since=30d")

    with page.expect_navigation():
        page.locator("select[name=since]").select_option("")
    assert page.url.endswith("/outcomes?since=")
    assert f"{everything['conversations']} conversations" in _headline(page)

    # A period the app cannot read is a message on the page, not an error page.
    response = page.goto(f"{base}/outcomes?since=soonish")
    assert response.status == 200
    assert "neither a duration" in page.inner_text("[role=alert]")
    _clean(seen, base)


def test_team_to_agent_to_conversation(scored, new_page):
    base = scored["url"]
    team = _api(scored, "/outcomes/team?since=90d")
    top = team["agents"][0]["agent"]
    page = new_page()
    seen = _watch(page)
    sign_in(page, base, scored["token"]("supervisor"), "/outcomes")

    with page.expect_navigation():
        page.locator("[data-testid=agents] tbody a", has_text=top["name"]).click()
    assert page.url == f"{base}/outcomes/agent/{top['id']}?since=90d"
    card = _api(scored, f"/outcomes/agents/{top['id']}/scorecard?since=90d")
    tips = _api(scored, f"/outcomes/coaching/{top['id']}?since=90d")
    assert page.inner_text("[data-testid=agent-name]") == top["name"]
    assert f"{card['conversations']} conversations" in _headline(page)
    assert page.locator("[data-testid=criteria] tbody tr").count() == len(card["criteria"])
    assert page.locator("[data-testid=coaching] h3").count() == len(tips["items"])
    _wait_for_plot(page, "trend-chart")
    assert _trace_len(page, "trend-chart") == len(card["trend"])

    links = page.locator("main a[href^='/outcomes/conversation/']")
    assert links.count() > 0, "the agent page links to no example conversation"
    href = links.first.get_attribute("href")
    assert href.endswith("?since=90d"), "the period travels with the link"
    conv_id = int(href.split("?")[0].rsplit("/", 1)[1])
    with page.expect_navigation():
        links.first.click()
    assert page.url == f"{base}/outcomes/conversation/{conv_id}?since=90d"
    score = _api(scored, f"/conversations/{conv_id}/scorecard")
    assert score["agent_id"] == top["id"]
    assert page.inner_text("[data-testid=outcome] .stat >> nth=0") == score["predicted_outcome"]
    assert page.inner_text("[data-testid=summary]") == score["summary_text"]
    results = page.locator("[data-testid=criteria] tbody tr .pill").all_inner_texts()
    assert results == [c["result"] for c in score["criteria"]]
    _wait_for_plot(page, "sentiment-chart")
    assert _trace_len(page, "sentiment-chart") >= 1

    # An evidence link jumps to the cited message in the transcript.
    evidence = page.locator("[data-testid=criteria] a[href^='#m']")
    assert evidence.count() > 0, "no criterion cites a message"
    target = evidence.last.get_attribute("href")
    evidence.last.click()
    assert page.url.endswith(target) and page.locator(f"tr{target}").is_visible()
    assert page.evaluate(f"document.querySelector('{target}').matches(':target')")
    assert 0 <= page.evaluate(f"document.querySelector('{target}').getBoundingClientRect().top") < 768

    with page.expect_navigation():
        page.click("a:has-text('Agent scorecard')")
    assert page.url == f"{base}/outcomes/agent/{top['id']}?since=90d"  # back to the period it came from
    with page.expect_navigation():
        page.click("a:has-text('Team view')")
    assert page.url.startswith(f"{base}/outcomes?since=")
    _clean(seen, base)


def test_agent_sees_only_their_own_scorecards(scored, new_page):
    base = scored["url"]
    team = _api(scored, "/outcomes/team?since=")
    agents = {u["id"]: u for u in scored["users"] if u["role"] == "agent"}
    me, other = [agents[a["agent"]["id"]] for a in team["agents"] if a["agent"]["id"] in agents][:2]
    mine = _api(scored, f"/outcomes/agents/{me['id']}/scorecard?since=90d")
    page = new_page()
    seen = _watch(page)
    sign_in(page, base, me["token"], "/outcomes")
    # The team view sends an agent to their own scorecard, with no way back to the team.
    assert page.url == f"{base}/outcomes/agent/{me['id']}"
    assert page.inner_text("[data-testid=agent-name]") == me["name"]
    assert f"{mine['conversations']} conversations" in _headline(page)
    assert page.locator("a:has-text('Team view')").count() == 0
    own = page.locator("main a[href^='/outcomes/conversation/']")
    assert own.count() > 0
    with page.expect_navigation():
        own.first.click()
    assert page.locator("[data-testid=criteria]").is_visible()
    _clean(seen, base)

    theirs = _api(scored, f"/outcomes/agents/{other['id']}/scorecard?since=")
    their_conv = (theirs["weakest"] or theirs["strongest"])[0]["examples"][0]["conversation_id"]
    for path in (f"/outcomes/agent/{other['id']}", f"/outcomes/conversation/{their_conv}"):
        response = page.goto(f"{base}{path}")
        assert response.status == 403, path
        assert page.locator("h1", has_text="Not allowed").is_visible()
        assert other["name"] not in page.inner_text("main")
