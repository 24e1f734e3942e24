"""The live hub: fan-out in process, and across processes through the real Redis."""

import asyncio
import uuid

import pytest

from deskmate.assist.hub import LiveHub

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:  # noqa: BLE001
        return False


async def _fan_out(publisher: LiveHub, receiver: LiveHub) -> None:
    await publisher.start()
    await receiver.start()
    try:
        desk_a = receiver.subscribe(conversation_id=7)
        desk_b = receiver.subscribe(conversation_id=7)
        elsewhere = receiver.subscribe(conversation_id=8)
        floor = receiver.subscribe(tenant_id=1)
        other_floor = receiver.subscribe(tenant_id=2)
        await publisher.publish(1, 7, {"type": "assist", "n": 1})
        await asyncio.to_thread(publisher.publish_from_thread, 1, 7, {"type": "assist", "n": 2})
        for sub in (desk_a, desk_b, floor):
            got = [await asyncio.wait_for(sub.get(), 5) for _ in range(2)]
            assert sorted(p["n"] for p in got) == [1, 2]
        await asyncio.sleep(0.2)
        assert elsewhere.queue.empty() and other_floor.queue.empty()
        receiver.unsubscribe(desk_a)
        assert receiver.listeners(7) == 1
    finally:
        await publisher.stop()
        await receiver.stop()


def test_in_process_fan_out():
    hub = LiveHub()
    asyncio.run(_fan_out(hub, hub))


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_redis_fan_out_between_two_processes_worth_of_hubs():
    namespace = f"deskmate-test:{uuid.uuid4().hex[:8]}"
    publisher = LiveHub(redis_url=REDIS_URL, namespace=namespace)  # another worker, same deployment
    receiver = LiveHub(redis_url=REDIS_URL, namespace=namespace)
    asyncio.run(_fan_out(publisher, receiver))


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_redis_namespaces_do_not_mix():
    async def run():
        a = LiveHub(redis_url=REDIS_URL, namespace=f"deskmate-test:{uuid.uuid4().hex[:8]}")
        b = LiveHub(redis_url=REDIS_URL, namespace=f"deskmate-test:{uuid.uuid4().hex[:8]}")
        await a.start()
        await b.start()
        try:
            sub = b.subscribe(conversation_id=7)
            await a.publish(1, 7, {"type": "assist"})
            await asyncio.sleep(0.3)
            assert sub.queue.empty()
        finally:
            await a.stop()
            await b.stop()

    asyncio.run(run())


def test_a_stalled_socket_loses_its_oldest_update_not_the_others():
    async def run():
        hub = LiveHub()
        await hub.start()
        slow, fast = hub.subscribe(conversation_id=1), hub.subscribe(conversation_id=1)
        for n in range(300):
            await hub.publish(1, 1, {"n": n})
            fast.queue.get_nowait()
        assert slow.queue.qsize() == 256 and slow.queue.get_nowait()["n"] == 300 - 256
        await hub.stop()

    asyncio.run(run())
