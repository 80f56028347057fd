"""``run_turn``: one assistant turn for one inbound message.

context bundle → analysis (stored on the message) → policy (confirmation pending? hand-over trigger?) →
retrieval → responder (LLM with tools, or the retrieval responder) → tool → reply through
``send_outbound`` or hand-over → turn trace. While people own the conversation it only drafts a
suggestion for the agent.

Safe to retry: one TurnTrace per message, a reply tagged with the message id is never sent twice, and a
per-conversation Redis lock keeps two turns of one conversation from interleaving.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import structlog
from django.utils import timezone
from redis.exceptions import LockError

from parley.assistants.actions import select_assistant, settings_of
from parley.assistants.models import Assistant, AssistantVersion
from parley.conversations import actions as conversation_actions
from parley.conversations.models import Conversation, ConversationStatus, Direction, Message, SenderType
from parley.core.deferred import PendingWrites, after_reply, defer
from parley.core.redis import get_redis
from parley.orchestrator import actions, nlu, sources
from parley.orchestrator.context import build_context
from parley.orchestrator.interface import ContextBundle, Decision, HistoryLine, Passage, ToolOption
from parley.orchestrator.llm_responder import LLMFailed, routing_for, run_llm
from parley.orchestrator.models import TurnStatus, TurnTrace
from parley.orchestrator.optional import optional_module
from parley.orchestrator.policy import handover_trigger, is_low_confidence
from parley.orchestrator.responder import ResponderState, RetrievalInput, respond
from parley.orchestrator.texts import pick_language, render, render_tool_result, yes_no_buttons
from parley.realtime.typing import typing_indicator

log = structlog.get_logger(__name__)

LOCK_TTL_S = 180
LOCK_WAIT_S = 90
HUMAN_STATUSES = (ConversationStatus.PENDING_HUMAN, ConversationStatus.ASSIGNED)
FINISHED_STATUSES = (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)
ACTOR = "assistant"


class TurnBusy(Exception):
    """Another turn of this conversation held the lock too long; the task retries."""


def run_turn(message_id: str, *, conversation_id: str | None = None) -> str:
    """Run the assistant for one stored inbound message; returns what happened (for logs and tests).

    ``conversation_id`` (the message's, as the connector enqueues it) saves a query: the conversation's
    lock is taken first, then the message is read with its conversation in one query."""
    if conversation_id is None:
        found = Message.objects.filter(pk=message_id).values_list("conversation_id", flat=True).first()
        if found is None:
            return "missing"
        conversation_id = str(found)
    lock = get_redis().lock(f"parley:turn-lock:{conversation_id}", timeout=LOCK_TTL_S, blocking_timeout=LOCK_WAIT_S)
    if not lock.acquire():
        raise TurnBusy(f"conversation {conversation_id} is busy")
    try:
        outcome = _run_locked(message_id, str(conversation_id))
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("turn_lock_expired", conversation_id=str(conversation_id))
    if outcome is None:  # queued with another conversation than the message's: run under the right lock
        log.warning("turn_conversation_mismatch", message_id=str(message_id), queued_with=str(conversation_id))
        return run_turn(message_id)
    return outcome


def _run_locked(message_id: str, conversation_id: str) -> str | None:
    """The turn, under the conversation's lock; None when the message is not in that conversation."""
    # the conversation as the turn before this one left it, and everything the turn reads of it, in one
    # query with the message
    message = (
        Message.objects.select_related(
            "conversation__channel", "conversation__customer", "conversation__assistant__active_version"
        )
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return "missing"
    if str(message.conversation_id) != conversation_id:
        return None
    if message.direction != Direction.INBOUND or message.sender_type != SenderType.CUSTOMER:
        return "not-inbound"
    # A new trace is this run's (created claimed, one INSERT); an existing one is a retry's or a duplicate
    # delivery's, claimed unless another run finished it.
    trace, created = actions.start_trace(message=message, claim=True)
    if not created and not actions.claim_trace(trace=trace):
        return "duplicate"
    if _answers_csat_survey(message):
        actions.finish_trace(trace=trace, status=TurnStatus.SKIPPED, outcome="csat_answer")
        return "csat_answer"
    # the web-chat visitor and the inbox see "assistant is typing" while the assistant answers
    assistant_answers = message.conversation.status not in (*HUMAN_STATUSES, *FINISHED_STATUSES)
    with (
        typing_indicator(message.conversation, sender_type=SenderType.ASSISTANT, active=assistant_answers),
        after_reply() as bookkeeping,
    ):
        return Turn(message, trace, bookkeeping).run()


def _tells_language(text: str) -> bool:
    """Whether a message is long enough for its detected language to be trusted (not "ok", "sí", "#1001")."""
    return len(text.split()) >= 3


def _answers_csat_survey(message: Message) -> bool:
    """A 1-5 reply to a pending satisfaction survey is recorded by analytics and needs no assistant turn."""
    from parley.analytics.csat import capture_csat_answer

    return capture_csat_answer(message)


def give_up(message_id: str, *, error: str) -> None:
    """The turn failed for good: record it, and hand the conversation to people (with a notice)."""
    from parley.handover.actions import request_handover

    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None:
        return
    trace, _ = actions.start_trace(message=message)
    actions.finish_trace(
        trace=trace,
        status=TurnStatus.FAILED,
        outcome="handover",
        handover_reason="assistant_error",
        errors=[*trace.errors, error],
    )
    conversation = message.conversation
    if conversation.status in FINISHED_STATUSES or conversation.status in HUMAN_STATUSES:
        return
    request_handover(conversation=conversation, reason="assistant_error", actor=ACTOR)
    language = pick_language(conversation.language or None)
    conversation_actions.send_outbound(
        conversation=conversation,
        text=render("handover", language),
        sender_type=SenderType.ASSISTANT,
        metadata={"turn_message_id": str(message.id), "responder": "fallback"},
    )


@dataclass
class TurnRecord:
    """What the trace will say about this turn."""

    responder: str = ""
    outcome: str = ""
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    llm_calls: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    handover_reason: str = ""
    low_confidence: bool = False
    state: dict[str, Any] = field(default_factory=dict)


class Turn:
    """One run of the pipeline for one message."""

    def __init__(self, message: Message, trace: TurnTrace, bookkeeping: PendingWrites | None = None) -> None:
        self.message = message
        self.trace = trace
        # writes that can wait until the reply is stored (knowledge query log, LLM call records)
        self.bookkeeping = bookkeeping
        self.record = TurnRecord()
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        self._mark = self.started
        self.retrieval_handle: Any = None  # sources.prepare_retrieval's, once the turn starts

    def _lap(self, name: str) -> None:
        now = time.perf_counter()
        self.record.timings[name] = round((now - self._mark) * 1000)
        self._mark = now

    # -- the pipeline -------------------------------------------------------------------------------

    def run(self) -> str:
        conversation = self.message.conversation  # read with its relations under the turn lock
        self.conversation = conversation
        # only a retry can find its reply already sent (the first run of a turn has attempts == 1)
        already = self._reply_already_sent() if self.trace.attempts > 1 else None
        if already is not None:
            actions.finish_trace(trace=self.trace, reply_message=already, outcome=self.trace.outcome or "answer")
            return "duplicate"
        if conversation.status in FINISHED_STATUSES:
            actions.finish_trace(trace=self.trace, status=TurnStatus.SKIPPED, outcome="conversation_finished")
            return "skipped"
        # the message's embedding starts now, in the background, while analysis and context read the database
        self.retrieval_handle = sources.prepare_retrieval(tenant=conversation.tenant_id, query=self.message.text)
        analysed = sources.analyse(self.message.text, tenant_id=str(conversation.tenant_id))
        if analysed.error:
            self.record.errors.append(analysed.error)
        self.analysis = {**analysed.data, "source": analysed.source}
        # stored on the message after the reply (or before a hand-over, whose summary reads it)
        self.message.analysis = self.analysis
        defer("message analysis", partial(actions.store_analysis, message=self.message, analysis=self.analysis))
        self._lap("analysis_ms")
        self.assistant, self.version = self._assistant_for(conversation)
        self.llm_settings, self.rules, self.hours = settings_of(self.assistant)
        # The conversation's language (kept up to date from messages long enough to tell): a bare
        # "sí" or "ok" must not switch a Spanish conversation to English.
        spoken = self.conversation.language or self.analysis.get("language")
        self.language = pick_language(spoken, list(self.assistant.languages or []) if self.assistant else [])
        self.bundle = build_context(
            conversation=conversation,
            message=self.message,
            assistant=self.assistant,
            version=self.version,
            language=self.language,
        )
        self._lap("context_ms")
        if conversation.status in HUMAN_STATUSES:
            result = self._suggest()
        else:
            result = self._reply()
        self._finish()
        return result

    def _reply_already_sent(self) -> Message | None:
        return Message.objects.filter(
            conversation_id=self.message.conversation_id,
            direction=Direction.OUTBOUND,
            metadata__turn_message_id=str(self.message.id),
        ).first()

    def _assistant_for(self, conversation: Conversation) -> tuple[Assistant | None, AssistantVersion | None]:
        changes: dict[str, Any] = {}
        assistant = conversation.assistant
        if assistant is None:
            assistant = select_assistant(
                tenant_id=conversation.tenant_id,
                channel=conversation.channel,
                language=str(self.analysis.get("language") or ""),
                text=self.message.text,
            )
            if assistant is not None:
                changes["assistant"] = assistant
        detected = str(self.analysis.get("language") or "")[:10]
        if detected and detected != conversation.language and (not conversation.language or _tells_language(self.message.text)):
            changes["language"] = detected
        if changes:
            # this turn goes on with the new values; they are stored after the reply (none of it is needed to
            # answer, and a new conversation's first answer is the one a customer waits for most)
            for name, value in changes.items():
                setattr(conversation, name, value)
            defer(
                "conversation assistant and language",
                partial(conversation_actions.update_conversation, conversation=conversation, changes=changes, actor=ACTOR),
            )
        if assistant is not None and not assistant.enabled:
            return None, None
        version = assistant.active_version if assistant is not None else None
        return assistant, version

    def _previous_state(self) -> tuple[ResponderState, int]:
        """The last finished turn's open question, and how many low-confidence turns came just before."""
        # two small columns, not the traces' retrieved passages and calls
        previous = list(
            TurnTrace.objects.filter(conversation_id=self.conversation.id, status=TurnStatus.DONE)
            .exclude(pk=self.trace.pk)
            .order_by("-created_at")
            .values_list("metadata__state", "low_confidence")[:10]
        )
        state = ResponderState()
        if previous:
            saved = previous[0][0] or {}
            state = ResponderState(
                pending_intent=str(saved.get("pending_intent", "")),
                pending_arguments=dict(saved.get("pending_arguments", {})),
                options=list(saved.get("options", [])),
            )
        streak = 0
        for _, low_confidence in previous:
            if not low_confidence:
                break
            streak += 1
        return state, streak

    def _reply(self) -> str:
        text = self.message.text
        pending = self._pending_action()
        if pending is not None:
            return self._confirmation(pending)
        if not text.strip() and self.message.attachments.exists():
            # A photo or a voice note without words: nothing to retrieve or act on; people can look at it.
            self.record.responder = "policy"
            self._send(render("attachment_received", self.language))
            return self._handover("attachment", notice=False)
        reason = handover_trigger(text, self.analysis, self.rules)
        if reason is not None:
            self.record.responder = "policy"
            return self._handover(reason)
        passages = self._retrieve()
        state, streak = self._previous_state()
        decision = self._decide(passages, state, with_tools=True)
        best = max((p.score for p in passages), default=0.0)
        threshold = self.assistant.knowledge_threshold if self.assistant else 0.45
        self.record.low_confidence = decision.kind not in ("tool", "smalltalk", "confirm") and is_low_confidence(
            self.analysis, best_passage=best, knowledge_threshold=threshold, rules=self.rules
        )
        if self.record.low_confidence and streak + 1 >= self.rules.low_confidence_turns and decision.kind != "handover":
            return self._handover("low_confidence")
        return self._carry_out(decision)

    def _retrieve(self) -> list[Passage]:
        assistant = self.assistant
        passages, error = sources.retrieve(
            tenant=self.conversation.tenant_id,  # an id: no query for the tenant row
            query=self.message.text,
            k=5,
            source_ids=list(assistant.knowledge_source_ids or []) if assistant else None,
            tags=list(assistant.knowledge_tags or []) if assistant else None,
            language=self.analysis.get("language"),
            conversation_id=str(self.conversation.id),
            record=True,
            prepared=self.retrieval_handle,
        )
        if error:
            self.record.errors.append(error)
        self.record.retrieved = [{**p.as_dict(), "text": p.text[:300]} for p in passages]
        self._lap("retrieval_ms")
        return passages

    def _tool_options(self) -> list[ToolOption]:
        service = optional_module("parley.tools.service")
        if service is None or not self.bundle.allowed_tools:
            return []
        try:
            specs = service.tool_specs(self.bundle.allowed_tools)
        except Exception as exc:  # noqa: BLE001 - a broken registry must not drop the message
            self.record.errors.append(f"tools: {exc}")
            return []
        return [ToolOption(name=s.name, description=s.description, parameters=dict(s.parameters)) for s in specs]

    def _decide(self, passages: list[Passage], state: ResponderState, *, with_tools: bool) -> Decision:
        routing = routing_for(self.assistant)
        if routing is not None:
            try:
                decision = self._llm(passages, routing, with_tools=with_tools)
                self.record.responder = "llm"
                self._lap("responder_ms")
                return decision
            except LLMFailed as exc:
                self.record.errors.append(str(exc))
                log.warning("llm_fallback", conversation_id=str(self.conversation.id), error=str(exc))
        self.record.responder = "retrieval"
        decision = respond(
            RetrievalInput(
                text=self.message.text,
                analysis=self.analysis,
                language=self.language,
                passages=passages,
                tools=self._tool_options() if with_tools else [],
                threshold=self.assistant.knowledge_threshold if self.assistant else 0.45,
                intent_tools=dict(self.assistant.intent_tools or {}) if self.assistant else {},
                state=state,
                customer_email=self.conversation.customer.email,
                button_id=str((self.message.metadata or {}).get("button_id") or ""),
                open_order_numbers=[str(o["number"]) for o in self.bundle.open_orders],
            )
        )
        self._lap("responder_ms")
        return decision

    def _llm(self, passages: list[Passage], routing: Any, *, with_tools: bool) -> Decision:
        service = optional_module("parley.tools.service")
        specs: list[Any] = []
        if with_tools and service is not None and self.bundle.allowed_tools:
            specs = list(service.tool_specs(self.bundle.allowed_tools))
        turn = run_llm(
            bundle=self.bundle,
            text=self.message.text,
            passages=passages,
            routing=routing,
            tool_specs=specs,
            run_tool=self._execute_tool,
            language=self.language,
            max_steps=self.llm_settings.max_tool_steps,
            deadline=time.monotonic() + self.llm_settings.timeout_s,
            ids={
                "tenant_id": str(self.conversation.tenant_id),
                "assistant_id": str(self.assistant.id) if self.assistant else None,
                "conversation_id": str(self.conversation.id),
            },
        )
        self.record.tool_calls.extend(turn.tool_calls)
        self.record.llm_calls.extend(turn.llm_calls)
        return turn.decision

    # -- tools and confirmations ---------------------------------------------------------------------

    def _tool_context(self) -> Any:
        base = optional_module("parley.tools.base")
        assert base is not None
        return base.ToolContext(
            tenant=self.conversation.tenant,
            customer=self.conversation.customer,
            conversation=self.conversation,
            assistant_id=str(self.assistant.id) if self.assistant else None,
            allowed_tools=set(self.bundle.allowed_tools),
            actor=f"assistant:{self.assistant.id}" if self.assistant else ACTOR,
            language=self.language,
        )

    def _execute_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        service = optional_module("parley.tools.service")
        if service is None:
            return {"status": "error", "data": {}, "message": render("tool_failed", self.language), "pending_action_id": None}
        started = time.perf_counter()
        try:
            result = service.execute_tool(name, arguments, self._tool_context())
            dumped: dict[str, Any] = result.model_dump() if hasattr(result, "model_dump") else dict(result)
        except Exception as exc:  # noqa: BLE001 - the tool layer reports its own errors; this is the last guard
            self.record.errors.append(f"tool {name}: {type(exc).__name__}: {exc}")
            dumped = {"status": "error", "data": {}, "message": render("tool_failed", self.language), "pending_action_id": None}
        dumped.setdefault("elapsed_ms", round((time.perf_counter() - started) * 1000))
        return dumped

    def _pending_action(self) -> Any | None:
        service = optional_module("parley.tools.service")
        if service is None or not hasattr(service, "pending_action_for"):
            return None
        try:
            return service.pending_action_for(self.conversation)
        except Exception as exc:  # noqa: BLE001
            self.record.errors.append(f"pending action: {exc}")
            return None

    def _confirmation(self, pending: Any) -> str:
        self.record.responder = "confirmation"
        button = str((self.message.metadata or {}).get("button_id") or "")
        verdict = nlu.yes_or_no(button) if button in ("confirm_yes", "confirm_no") else nlu.yes_or_no(self.message.text)
        if verdict is None:
            if self.rules.explicit_request and nlu.asks_for_human(self.message.text, self.rules.extra_keywords):
                return self._handover("explicit_request")
            summary = str(getattr(pending, "summary", "") or getattr(pending, "description", "") or "")
            self.record.outcome = "remind"
            return self._send(
                render("confirm_reminder", self.language, summary=summary).replace("  ", " "),
                buttons=yes_no_buttons(self.language),
            )
        service = optional_module("parley.tools.service")
        assert service is not None
        try:
            result = service.confirm_pending_action(str(pending.id), self._tool_context(), confirmed=verdict)
            dumped = result.model_dump() if hasattr(result, "model_dump") else dict(result)
        except Exception as exc:  # noqa: BLE001
            self.record.errors.append(f"confirm: {type(exc).__name__}: {exc}")
            dumped = {"status": "error", "message": render("tool_failed", self.language)}
        self.record.tool_calls.append(
            {
                "name": "confirm_pending_action",
                "arguments": {"pending_action_id": str(pending.id), "confirmed": verdict},
                "status": dumped.get("status"),
                "message": str(dumped.get("message") or "")[:500],
            }
        )
        self.record.outcome = "confirmed" if verdict else "declined"
        text = str(dumped.get("message") or "") or render("tool_failed" if verdict else "cancelled", self.language)
        if dumped.get("status") == "needs_approval":
            self._send(text)
            return self._handover("tool_needs_human", notice=False)
        return self._send(text)

    # -- carrying out a decision ---------------------------------------------------------------------

    def _carry_out(self, decision: Decision) -> str:
        kind = decision.kind
        if kind == "clarify":
            self.record.state = {
                "pending_intent": decision.pending_intent,
                "pending_arguments": decision.tool_arguments,
                "options": decision.options,
            }
        if kind in ("answer", "smalltalk", "clarify"):
            self.record.outcome = kind
            return self._send(decision.text, buttons=decision.buttons, citations=decision.citations)
        if kind == "confirm":
            self.record.outcome = "confirm"
            return self._send(decision.text, buttons=decision.buttons or yes_no_buttons(self.language))
        if kind == "tool":
            return self._tool_reply(decision)
        if kind == "handover":
            if decision.text:
                self._send(decision.text)
                return self._handover(decision.handover_reason or "llm_handover")
            return self._handover(decision.handover_reason or "no_relevant_answer")
        return self._handover("no_relevant_answer")

    def _tool_reply(self, decision: Decision) -> str:
        if optional_module("parley.tools.service") is None:
            self.record.errors.append("tools: not installed")
            return self._handover("tool_unavailable")
        result = self._execute_tool(decision.tool_name, decision.tool_arguments)
        self.record.tool_calls.append(
            {
                "name": decision.tool_name,
                "arguments": decision.tool_arguments,
                "status": result.get("status"),
                "message": str(result.get("message") or "")[:500],
                "pending_action_id": result.get("pending_action_id"),
                "elapsed_ms": result.get("elapsed_ms"),
            }
        )
        self._lap("tools_ms")
        status = result.get("status")
        message = str(result.get("message") or "")
        if not message and status == "ok" and isinstance(result.get("data"), dict):
            message = render_tool_result(result["data"], self.language)
        message = message or render("tool_failed", self.language)
        self.record.outcome = "tool"
        if status == "needs_confirmation":
            self.record.outcome = "confirm"
            return self._send(message, buttons=yes_no_buttons(self.language))
        if status == "needs_approval":
            self._send(message)
            return self._handover("tool_needs_human", notice=False)
        return self._send(message)

    def _send(
        self, text: str, *, buttons: list[dict[str, str]] | None = None, citations: list[dict[str, str]] | None = None
    ) -> str:
        reply = conversation_actions.send_outbound(
            conversation=self.conversation,
            text=text,
            sender_type=SenderType.ASSISTANT,
            buttons=buttons or [],
            metadata={
                "turn_message_id": str(self.message.id),
                "responder": self.record.responder,
                "citations": citations or [],
            },
        )
        if self.trace.reply_message_id is None:
            self.trace.reply_message = reply
        if self.bookkeeping is not None:
            self.bookkeeping.flush()
        return self.record.outcome or "answer"

    def _handover(self, reason: str, *, notice: bool = True) -> str:
        from parley.handover.actions import request_handover

        self.record.handover_reason = reason
        self.record.outcome = "handover"
        if self.bookkeeping is not None:
            self.bookkeeping.flush()  # the summary reads this message's stored analysis
        self.conversation = request_handover(conversation=self.conversation, reason=reason, actor=ACTOR)
        if notice:
            waiting = self.conversation.status != ConversationStatus.ASSIGNED
            key = "handover_closed" if waiting and not self.hours.is_open(timezone.now()) else "handover"
            self._send(render(key, self.language))
        self._lap("handover_ms")
        return "handover"

    # -- while people own the conversation -----------------------------------------------------------

    def _suggest(self) -> str:
        from parley.handover.actions import create_suggestion

        passages = self._retrieve()
        state, _ = self._previous_state()
        decision = self._decide(passages, state, with_tools=False)
        self.record.outcome = "suggestion"
        text = decision.text
        if decision.kind == "tool":
            text = f"[suggested action] {decision.tool_name} {decision.tool_arguments}"
        if text and decision.kind != "handover":
            create_suggestion(
                conversation=self.conversation,
                message=self.message,
                text=text,
                source=self.record.responder,
                citations=decision.citations,
            )
        else:
            self.record.outcome = "no_suggestion"
        return "suggestion"

    def _finish(self) -> None:
        self.record.timings["total_ms"] = round((time.perf_counter() - self.started) * 1000)
        # this process's CPU time over the turn: total_ms far above it means waiting (database, LLM, a busy machine)
        self.record.timings["cpu_ms"] = round((time.process_time() - self.cpu_started) * 1000)
        metadata = dict(self.trace.metadata or {})
        metadata["state"] = self.record.state
        metadata["context"] = self.bundle.summary()
        actions.finish_trace(
            trace=self.trace,
            assistant=self.assistant,
            assistant_version=self.version.number if self.version else None,
            mode="suggestion"
            if self.conversation.status in HUMAN_STATUSES and self.record.outcome in ("suggestion", "no_suggestion")
            else "reply",
            responder=self.record.responder,
            outcome=self.record.outcome,
            analysis=self.analysis,
            low_confidence=self.record.low_confidence,
            retrieved=self.record.retrieved,
            tool_calls=self.record.tool_calls,
            llm_calls=self.record.llm_calls,
            timings_ms=self.record.timings,
            errors=self.record.errors,
            handover_reason=self.record.handover_reason,
            metadata=metadata,
        )


# -- the test chat: a dry run against any version, with no channel and no side effects -------------------


@dataclass
class DryRunResult:
    """What a test-chat turn would do."""

    reply: str
    buttons: list[dict[str, str]]
    responder: str
    outcome: str
    analysis: dict[str, Any]
    retrieved: list[dict[str, Any]]
    planned_tool_calls: list[dict[str, Any]]
    handover_reason: str
    errors: list[str]
    state: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dry_run(
    *,
    assistant: Assistant,
    version: AssistantVersion,
    text: str,
    history: list[HistoryLine],
    state: dict[str, Any] | None = None,
) -> DryRunResult:
    """Run one turn of ``version`` on ``text`` without a channel: tools are planned, never executed."""
    errors: list[str] = []
    analysed = sources.analyse(text, tenant_id=str(assistant.tenant_id))
    if analysed.error:
        errors.append(analysed.error)
    analysis = {**analysed.data, "source": analysed.source}
    llm_settings, rules, _ = settings_of(assistant)
    language = pick_language(analysis.get("language"), list(assistant.languages or []))
    bundle = ContextBundle(
        tenant_id=str(assistant.tenant_id),
        conversation_id=None,
        channel_type="test",
        language=language,
        customer={"name": "Test customer", "email": "", "phone": "", "language": language},
        identities=[],
        memory_summary="",
        history=history,
        open_orders=[],
        open_tickets=[],
        assistant_name=assistant.name,
        persona=version.persona,
        instructions=version.instructions,
        allowed_tools=list(assistant.allowed_tools or []),
        reply_languages=list(assistant.languages or []),
    )
    planned: list[dict[str, Any]] = []
    reason = handover_trigger(text, analysis, rules)
    if reason is not None:
        return DryRunResult(render("handover", language), [], "policy", "handover", analysis, [], [], reason, errors, {})
    passages, error = sources.retrieve(
        tenant=assistant.tenant,
        query=text,
        source_ids=list(assistant.knowledge_source_ids or []) or None,
        tags=list(assistant.knowledge_tags or []) or None,
        language=analysis.get("language"),
        record=False,
    )
    if error:
        errors.append(error)
    retrieved = [{**p.as_dict(), "text": p.text[:300]} for p in passages]
    service = optional_module("parley.tools.service")
    specs = list(service.tool_specs(bundle.allowed_tools)) if service is not None and bundle.allowed_tools else []

    def plan_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        planned.append({"name": name, "arguments": arguments})
        return {"status": "error", "data": {}, "message": "Tools are not executed in the test chat.", "pending_action_id": None}

    routing = routing_for(assistant)
    if routing is not None:
        try:
            turn = run_llm(
                bundle=bundle,
                text=text,
                passages=passages,
                routing=routing,
                tool_specs=specs,
                run_tool=plan_tool,
                language=language,
                max_steps=llm_settings.max_tool_steps,
                deadline=time.monotonic() + llm_settings.timeout_s,
                ids={"tenant_id": str(assistant.tenant_id), "assistant_id": str(assistant.id), "conversation_id": None},
            )
            decision = turn.decision
            return DryRunResult(
                decision.text or (render("handover", language) if decision.kind == "handover" else ""),
                decision.buttons,
                "llm",
                decision.kind,
                analysis,
                retrieved,
                planned,
                decision.handover_reason,
                errors,
                {},
            )
        except LLMFailed as exc:
            errors.append(str(exc))
    saved = state or {}
    decision = respond(
        RetrievalInput(
            text=text,
            analysis=analysis,
            language=language,
            passages=passages,
            tools=[ToolOption(name=s.name, description=s.description, parameters=dict(s.parameters)) for s in specs],
            threshold=assistant.knowledge_threshold,
            intent_tools=dict(assistant.intent_tools or {}),
            state=ResponderState(
                pending_intent=str(saved.get("pending_intent", "")),
                pending_arguments=dict(saved.get("pending_arguments", {})),
                options=list(saved.get("options", [])),
            ),
        )
    )
    if decision.kind == "tool":
        planned.append({"name": decision.tool_name, "arguments": decision.tool_arguments})
    reply = decision.text or (render("handover", language) if decision.kind == "handover" else "")
    next_state = (
        {"pending_intent": decision.pending_intent, "pending_arguments": decision.tool_arguments, "options": decision.options}
        if decision.kind == "clarify"
        else {}
    )
    return DryRunResult(
        reply,
        decision.buttons,
        "retrieval",
        decision.kind,
        analysis,
        retrieved,
        planned,
        decision.handover_reason,
        errors,
        next_state,
    )
