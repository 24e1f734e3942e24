"""Live assist over HTTP and WebSockets.

WebSocket /ws/conversations/{id} (token in `?token=`, the session cookie or an Authorization
header): send {"type": "message", ...MessageCreate} or {"type": "event", "suggestion_id", "event",
...}; receive {"type": "assist", "update": AssistUpdate}, {"type": "message", "message": MessageRead},
{"type": "ack", ...} and {"type": "error", "detail": ...}. /ws/floor streams every update of the
tenant to supervisors. Sockets refused at the handshake close with 4401 (no or bad token), 4403
(role) or 4404 (no such conversation in your workspace).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from deskmate.accounts.deps import current_user, get_session, token_from_request
from deskmate.accounts.models import User
from deskmate.assist import service
from deskmate.assist.models import FeedbackEvent
from deskmate.assist.schemas import AssistUpdate, FeedbackCreate, FeedbackRead
from deskmate.db import session_scope
from deskmate.errors import DeskmateError, NotFound

log = logging.getLogger("deskmate.assist")
router = APIRouter(tags=["assist"])

CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND = 4401, 4403, 4404


def hub_of(app):
    return app.state.assist_hub


def update_payload(update: AssistUpdate) -> dict:
    return {"type": "assist", "update": update.model_dump(mode="json")}


# ---- HTTP ----------------------------------------------------------------------------------


@router.get("/conversations/{conversation_id}/assist", response_model=AssistUpdate)
def get_assist(conversation_id: int, request: Request, user: User = Depends(current_user),
               session: Session = Depends(get_session)):
    """The current assist update for a conversation (context, intent, knowledge, next action, replies, alerts)."""
    from deskmate.conversations.service import get_conversation

    conversation = get_conversation(session, tenant_id=user.tenant_id, conversation_id=conversation_id)
    return service.current_update(session, settings=request.app.state.settings, tenant=user.tenant,
                                  conversation=conversation)


@router.post("/assist/feedback", response_model=FeedbackRead, status_code=201)
def post_feedback(body: FeedbackCreate, user: User = Depends(current_user), session: Session = Depends(get_session)):
    """Record what the agent did with a suggestion: shown, inserted, edited (with the final text), dismissed, rated."""
    return service.record_feedback(session, tenant_id=user.tenant_id, user_id=user.id, data=body)


@router.get("/assist/feedback", response_model=list[FeedbackRead])
def list_feedback(conversation_id: int, user: User = Depends(current_user), session: Session = Depends(get_session)):
    """Feedback events of one conversation, oldest first."""
    from deskmate.conversations.service import get_conversation

    get_conversation(session, tenant_id=user.tenant_id, conversation_id=conversation_id)
    return list(session.scalars(select(FeedbackEvent).where(FeedbackEvent.tenant_id == user.tenant_id,
                                                            FeedbackEvent.conversation_id == conversation_id)
                                .order_by(FeedbackEvent.id)))


class GenerateRequest(BaseModel):
    kind: str = Field(pattern="^(reply|summary)$")
    draft: str | None = Field(default=None, max_length=5000)


class GenerateResponse(BaseModel):
    kind: str
    text: str
    guardrails: list[str] = Field(default_factory=list)


@router.post("/conversations/{conversation_id}/assist/generate", response_model=GenerateResponse)
def generate(conversation_id: int, body: GenerateRequest, request: Request, user: User = Depends(current_user),
             session: Session = Depends(get_session)):
    """Rewrite a draft reply or write a prose summary with the optional generation backend (off by default)."""
    text, notes = service.generate_text(session, settings=request.app.state.settings, tenant=user.tenant,
                                        conversation_id=conversation_id, kind=body.kind, draft=body.draft)
    return GenerateResponse(kind=body.kind, text=text, guardrails=notes)


# ---- WebSockets ----------------------------------------------------------------------------


def _authorise(app, token: str | None, conversation_id: int | None, role: str | None = None):
    """(user id, tenant id) or a close code; runs in a worker thread (database work)."""
    from deskmate.accounts import service as accounts
    from deskmate.conversations.service import get_conversation

    with session_scope(app.state.sessionmaker) as session:
        user = accounts.authenticate(session, token) if token else None
        if user is None:
            return CLOSE_UNAUTHENTICATED
        if role is not None and not accounts.has_role(user, role):
            return CLOSE_FORBIDDEN
        if conversation_id is not None:
            try:
                get_conversation(session, tenant_id=user.tenant_id, conversation_id=conversation_id)
            except NotFound:
                return CLOSE_NOT_FOUND
        return user.id, user.tenant_id


def _handle_message(app, user_id: int, conversation_id: int, body: dict) -> None:
    """Receive a message sent over the socket: the same arrival as HTTP's (stored, assisted, published live)."""
    from deskmate.accounts.models import User as UserModel
    from deskmate.conversations.arrival import receive_message
    from deskmate.conversations.models import MessageCreate

    data = MessageCreate.model_validate({k: v for k, v in body.items() if k != "type"})
    with session_scope(app.state.sessionmaker) as session:
        user = session.get(UserModel, user_id)
        receive_message(session, tenant=user.tenant, conversation_id=conversation_id, data=data,
                        events=app.state.events, hub=hub_of(app))


def _handle_event(app, user_id: int, tenant_id: int, conversation_id: int, body: dict) -> dict:
    data = FeedbackCreate.model_validate({**{k: v for k, v in body.items() if k != "type"}, "conversation_id": conversation_id})
    with session_scope(app.state.sessionmaker) as session:
        event = service.record_feedback(session, tenant_id=tenant_id, user_id=user_id, data=data)
        return {"type": "ack", "event_id": event.id, "suggestion_id": event.suggestion_id, "event": event.event}


def _initial_update(app, user_id: int, conversation_id: int) -> dict:
    from deskmate.accounts.models import User as UserModel
    from deskmate.conversations.service import get_conversation

    with session_scope(app.state.sessionmaker) as session:
        user = session.get(UserModel, user_id)
        conversation = get_conversation(session, tenant_id=user.tenant_id, conversation_id=conversation_id)
        return update_payload(service.current_update(session, settings=app.state.settings, tenant=user.tenant,
                                                     conversation=conversation))


async def _pump(websocket: WebSocket, sub) -> None:
    while True:
        await websocket.send_json(await sub.get())


@router.websocket("/ws/conversations/{conversation_id}")
async def conversation_socket(websocket: WebSocket, conversation_id: int):
    app = websocket.app
    auth = await run_in_threadpool(_authorise, app, token_from_request(websocket), conversation_id)
    if isinstance(auth, int):
        await websocket.close(code=auth)
        return
    user_id, tenant_id = auth
    await websocket.accept()
    hub = hub_of(app)
    await hub.ensure_started()
    sub = hub.subscribe(conversation_id=conversation_id)
    pump = asyncio.create_task(_pump(websocket, sub))
    try:
        with contextlib.suppress(DeskmateError, ValidationError):
            await websocket.send_json(await run_in_threadpool(_initial_update, app, user_id, conversation_id))
        while True:
            body = await websocket.receive_json()
            kind = body.get("type") if isinstance(body, dict) else None
            try:
                if kind == "message":  # the message and its update reach this socket through the hub
                    await run_in_threadpool(_handle_message, app, user_id, conversation_id, body)
                elif kind == "event":
                    await websocket.send_json(await run_in_threadpool(_handle_event, app, user_id, tenant_id,
                                                                      conversation_id, body))
                elif kind == "ping":
                    await websocket.send_json({"type": "pong"})
                else:
                    await websocket.send_json({"type": "error", "detail": "type must be 'message', 'event' or 'ping'"})
            except ValidationError as exc:
                await websocket.send_json({"type": "error", "detail": _first_error(exc)})
            except DeskmateError as exc:
                await websocket.send_json({"type": "error", "detail": str(exc)})
    except (WebSocketDisconnect, RuntimeError, ValueError):
        pass  # closed by the client, or it sent something that is not JSON
    finally:
        pump.cancel()
        hub.unsubscribe(sub)


@router.websocket("/ws/floor")
async def floor_socket(websocket: WebSocket):
    """Every assist update of the workspace, for the supervisor floor."""
    app = websocket.app
    auth = await run_in_threadpool(_authorise, app, token_from_request(websocket), None, "supervisor")
    if isinstance(auth, int):
        await websocket.close(code=auth)
        return
    _, tenant_id = auth
    await websocket.accept()
    hub = hub_of(app)
    await hub.ensure_started()
    sub = hub.subscribe(tenant_id=tenant_id)
    pump = asyncio.create_task(_pump(websocket, sub))
    try:
        while True:
            await websocket.receive_text()  # keeps the socket open; the floor only listens
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        pump.cancel()
        hub.unsubscribe(sub)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    return f"{where}: {err.get('msg')}" if where else str(err.get("msg"))


SWEEP_SECONDS = 15.0


async def _warm_up(app) -> None:
    try:
        await run_in_threadpool(service.warm_up, app.state.settings, app.state.sessionmaker)
    except Exception:  # noqa: BLE001 - a workspace that cannot warm up loads on its first message instead
        log.exception("assist warm-up failed")


async def _sweep_forever(hub) -> None:
    """Every SWEEP_SECONDS, push a fresh update to conversations whose customer is waiting too long."""
    from deskmate.db import utcnow

    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            for tenant_id, conversation_id, update in service.sweep_silences(utcnow()):
                await hub.publish(tenant_id, conversation_id, update_payload(update))
        except Exception:  # noqa: BLE001 - the sweep is a courtesy; it must never stop the server
            log.exception("long-silence sweep failed")


def setup_app(app) -> None:
    """The live hub starts and stops with the app; article edits keep the passage index fresh."""
    from contextlib import asynccontextmanager

    from deskmate.assist.hub import LiveHub
    from deskmate.assist.retrieval import register_article_listener

    register_article_listener()
    hub = app.state.assist_hub = LiveHub.for_settings(app.state.settings)
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        await hub.start()
        sweeper = asyncio.create_task(_sweep_forever(hub))
        if getattr(app.state.settings, "assist_warm_up", True):
            asyncio.create_task(_warm_up(app))
        try:
            async with previous(a) as state:
                yield state
        finally:
            sweeper.cancel()
            await hub.stop()

    app.router.lifespan_context = lifespan
