"""The live hub: every update fans out to each socket on its conversation and to the tenant's channel.

In-process by default (one server process). With `settings.redis_url` set, updates go through
Redis pub/sub, one channel per tenant, so several workers or machines serve the same desks: each
process subscribes once (a pattern over its namespace) and delivers to its own sockets. Channels
are namespaced by a hash of the database URL, so two deployments sharing a Redis never mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass, field

log = logging.getLogger("deskmate.assist.hub")

QUEUE_SIZE = 256


@dataclass(eq=False)
class Subscription:
    conversation_id: int | None
    tenant_id: int | None
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    async def get(self) -> dict:
        return await self.queue.get()

    def offer(self, payload: dict) -> None:
        if self.queue.full():  # a stalled socket loses its oldest update, never blocks the others
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(payload)


class LiveHub:
    def __init__(self, *, redis_url: str | None = None, namespace: str = "deskmate"):
        self.redis_url = redis_url
        self.namespace = namespace
        self._by_conversation: dict[int, set[Subscription]] = {}
        self._by_tenant: dict[int, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task | None = None
        self._redis = None  # async client (listener)
        self._redis_sync = None  # for publishing from worker threads
        self._ready: asyncio.Event | None = None

    @classmethod
    def for_settings(cls, settings) -> "LiveHub":
        digest = hashlib.blake2b(settings.database_url.encode(), digest_size=5).hexdigest()
        return cls(redis_url=settings.redis_url, namespace=f"deskmate:{digest}")

    @property
    def backend(self) -> str:
        return "redis" if self.redis_url else "memory"

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        if self.redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self.redis_url)
            self._ready = asyncio.Event()
            self._listener = asyncio.create_task(self._listen())
            await asyncio.wait_for(self._ready.wait(), timeout=5)

    ensure_started = start

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        if self._redis is not None:
            await self._redis.aclose()
        if self._redis_sync is not None:
            self._redis_sync.close()
        self._listener = self._redis = self._redis_sync = self._loop = None

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.psubscribe(f"{self.namespace}:tenant:*")
        self._ready.set()
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is None or message.get("type") != "pmessage":
                    continue
                try:
                    envelope = json.loads(message["data"])
                    self._deliver(envelope["t"], envelope["c"], envelope["p"])
                except (ValueError, KeyError, TypeError):
                    log.warning("ignoring a malformed hub message on %s", message.get("channel"))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    # ---- subscriptions -----------------------------------------------------------------

    def subscribe(self, *, conversation_id: int | None = None, tenant_id: int | None = None) -> Subscription:
        sub = Subscription(conversation_id, tenant_id)
        if conversation_id is not None:
            self._by_conversation.setdefault(conversation_id, set()).add(sub)
        else:
            self._by_tenant.setdefault(tenant_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        table, key = ((self._by_conversation, sub.conversation_id) if sub.conversation_id is not None
                      else (self._by_tenant, sub.tenant_id))
        subs = table.get(key)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                table.pop(key, None)

    def listeners(self, conversation_id: int) -> int:
        return len(self._by_conversation.get(conversation_id, ()))

    def _deliver(self, tenant_id: int, conversation_id: int, payload: dict) -> None:
        for sub in list(self._by_conversation.get(conversation_id, ())):
            sub.offer(payload)
        for sub in list(self._by_tenant.get(tenant_id, ())):
            sub.offer(payload)

    # ---- publishing --------------------------------------------------------------------

    def _envelope(self, tenant_id: int, conversation_id: int, payload: dict) -> str:
        return json.dumps({"t": tenant_id, "c": conversation_id, "p": payload}, default=str)

    async def publish(self, tenant_id: int, conversation_id: int, payload: dict) -> None:
        """From the event loop."""
        if self._redis is not None:
            await self._redis.publish(f"{self.namespace}:tenant:{tenant_id}", self._envelope(tenant_id, conversation_id, payload))
        else:
            self._deliver(tenant_id, conversation_id, payload)

    def publish_from_thread(self, tenant_id: int, conversation_id: int, payload: dict) -> None:
        """From a worker thread (a plain `def` route): never blocks on a socket."""
        if self.redis_url:
            if self._redis_sync is None:
                import redis

                self._redis_sync = redis.Redis.from_url(self.redis_url)
            self._redis_sync.publish(f"{self.namespace}:tenant:{tenant_id}", self._envelope(tenant_id, conversation_id, payload))
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._deliver, tenant_id, conversation_id, payload)
