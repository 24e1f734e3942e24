"""Optional text generation through any OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp server).

Off unless `settings.generation_url` is set. It never sits in the per-message path (a local model
takes seconds, assist answers in milliseconds): the desk asks for a rewrite or a prose summary on
demand, and whatever comes back passes the same guardrails as any suggested reply.
"""

from __future__ import annotations

import httpx

from deskmate.errors import DeskmateError, InvalidInput

TIMEOUT_SECONDS = 30.0

REWRITE_PROMPT = (
    "You are helping a customer-support agent. Rewrite the draft reply so it answers the customer's last "
    "message, keeps every fact, name, number and placeholder in square brackets exactly, and stays short "
    "and polite. Answer with the reply only."
)
SUMMARY_PROMPT = (
    "Summarise this support conversation for a colleague taking it over, in at most three sentences: the "
    "customer's problem, what has been done, and what is left. Answer with the summary only."
)


class GenerationUnavailable(DeskmateError):
    """The generation backend is off or did not answer."""


def chat_url(base: str) -> str:
    base = base.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if not base.endswith("/v1"):
        base += "/v1"
    return base + "/chat/completions"


class GenerationClient:
    def __init__(self, url: str, *, model: str = "default", api_key: str | None = None,
                 timeout: float = TIMEOUT_SECONDS, transport: httpx.BaseTransport | None = None):
        self.url = chat_url(url)
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    @classmethod
    def from_settings(cls, settings) -> "GenerationClient":
        if not settings.generation_url:
            raise GenerationUnavailable("text generation is off: set DESKMATE_GENERATION_URL to an OpenAI-compatible endpoint")
        return cls(settings.generation_url, model=settings.generation_model, api_key=settings.generation_api_key)

    def complete(self, system: str, user: str, *, max_tokens: int = 300, temperature: float = 0.2) -> str:
        body = {"model": self.model, "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
                "max_tokens": max_tokens, "temperature": temperature, "stream": False}
        try:
            response = self._client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise GenerationUnavailable(f"generation backend at {self.url} did not answer: {exc}") from exc
        if response.status_code >= 400:
            raise GenerationUnavailable(f"generation backend answered {response.status_code}: {response.text[:200]}")
        try:
            text = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GenerationUnavailable("generation backend answered without choices[0].message.content") from exc
        text = (text or "").strip()
        if not text:
            raise GenerationUnavailable("generation backend answered with an empty text")
        return text

    def rewrite_reply(self, draft: str, transcript: list[tuple[str, str]]) -> str:
        if not draft.strip():
            raise InvalidInput("draft: nothing to rewrite")
        return self.complete(REWRITE_PROMPT, f"Conversation:\n{_render(transcript[-8:])}\n\nDraft reply:\n{draft}")

    def summarize(self, transcript: list[tuple[str, str]]) -> str:
        return self.complete(SUMMARY_PROMPT, _render(transcript[-40:]), max_tokens=200)

    def close(self) -> None:
        self._client.close()


def _render(transcript: list[tuple[str, str]]) -> str:
    return "\n".join(f"{role}: {text}" for role, text in transcript)
