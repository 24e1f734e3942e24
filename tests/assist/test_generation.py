"""The optional generation backend, against a small OpenAI-compatible server started here."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deskmate.assist.generation import GenerationClient, GenerationUnavailable, chat_url
from tests.assist.conftest import a_customer, open_conversation
from tests.conftest import auth


class FakeChat(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions like an OpenAI-compatible server; records what it was asked."""

    requests: list = []
    answer = "Of course! I have sent the label to zed.quinn@elsewhere.example."

    def do_POST(self):  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeChat.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if self.path != "/v1/chat/completions":
            self.send_response(404)
            self.end_headers()
            return
        payload = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                              "choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": FakeChat.answer}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def chat_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeChat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_chat_url_accepts_base_or_v1_or_full_url():
    assert chat_url("http://h:1") == chat_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert chat_url("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"


def test_rewrite_and_summary_speak_the_chat_completions_api(chat_server):
    FakeChat.requests.clear()
    FakeChat.answer = "Happy to help, Anna."
    client = GenerationClient(chat_server, model="smollm", api_key="k-123")
    assert client.rewrite_reply("happy to help", [("customer", "hi")]) == "Happy to help, Anna."
    assert client.summarize([("customer", "my parcel is late"), ("agent", "checking")]) == "Happy to help, Anna."
    sent = FakeChat.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer k-123"
    assert sent["body"]["model"] == "smollm" and sent["body"]["messages"][0]["role"] == "system"
    assert "happy to help" in sent["body"]["messages"][1]["content"]
    client.close()


def test_unreachable_or_broken_backend_is_a_clear_error(chat_server):
    with pytest.raises(GenerationUnavailable, match="did not answer"):
        GenerationClient("http://127.0.0.1:9", timeout=0.5).complete("s", "u")
    with pytest.raises(GenerationUnavailable, match="404"):
        GenerationClient(chat_server + "/v1/other/chat/completions").complete("s", "u")


def test_generate_route_is_off_by_default_and_guarded_when_on(demo, demo_client, chat_server):
    token = demo.tokens["agent"]
    external_id, _, email = a_customer(demo)
    conv = open_conversation(demo_client, token, customer_external_id=external_id,
                             messages=[{"role": "customer", "text": "can you resend my return label?"}])
    url = f"/conversations/{conv['id']}/assist/generate"
    off = demo_client.post(url, json={"kind": "summary"}, headers=auth(token))
    assert off.status_code == 400 and "DESKMATE_GENERATION_URL" in off.json()["detail"]
    demo.settings.generation_url = chat_server
    try:
        FakeChat.answer = "Of course! I have sent the label to zed.quinn@elsewhere.example."
        r = demo_client.post(url, json={"kind": "reply", "draft": "label sent"}, headers=auth(token))
        assert r.status_code == 200, r.text
        assert "zed.quinn" not in r.json()["text"] and email in r.json()["text"]  # the guardrails ran on it
        assert demo_client.post(url, json={"kind": "reply"}, headers=auth(token)).status_code == 422
        FakeChat.answer = "Customer wants a new return label; agent is resending it."
        assert demo_client.post(url, json={"kind": "summary"}, headers=auth(token)).json()["text"].startswith("Customer")
    finally:
        demo.settings.generation_url = None
