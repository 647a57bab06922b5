"""The review task's state machine: one table of moves and one helper that applies
them (issue 14).

Every change of a ``ReviewTask`` goes through :func:`task_move`: the move is checked
against :data:`TRANSITIONS`, the task saved with ``update_fields``, and the timeline
event and the audit entry written in the caller's transaction. The one exception is
the one-statement claim on PostgreSQL (``services._claim_statement``): its SQL takes the
source states and the target state from this table (:func:`sources_of`,
:func:`target_of`), then :func:`record_move` writes the same timeline event and audit
entry in the same transaction. Page and API capabilities (:func:`task_capabilities`)
are read from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.roles import Perm, user_can
from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import ConflictError
from invoiceportal.invoices.lifecycle import timeline_note
from invoiceportal.invoices.models import Invoice
from reviews.models import ReviewTask, TaskState


class TaskMove(StrEnum):
    CLAIM = "claim"
    RELEASE = "release"
    EXPIRE = "expire"
    REASSIGN = "reassign"
    PRIORITY = "priority"
    APPROVE = "approve"
    FIRST_APPROVAL = "first_approval"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    RESUME = "resume"
    CLOSE = "close"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the state does not change (a new priority)
    audit: str
    timeline: str | None  # None: the invoice's own transition is the timeline event
    label: Any


Q, C, W, D = TaskState.QUEUED, TaskState.CLAIMED, TaskState.WAITING, TaskState.DONE
OPEN = frozenset({Q, C, W})

TRANSITIONS: dict[TaskMove, Transition] = {
    TaskMove.CLAIM: Transition(
        frozenset({Q}),
        C,
        "review_task.claimed",
        "review_claimed",
        pgettext_lazy("task move", "claimed"),
    ),
    TaskMove.RELEASE: Transition(
        frozenset({C}),
        Q,
        "review_task.released",
        "review_released",
        pgettext_lazy("task move", "released"),
    ),
    TaskMove.EXPIRE: Transition(
        frozenset({C}),
        Q,
        "review_task.lease_expired",
        "review_lease_expired",
        pgettext_lazy("task move", "returned on an expired lease"),
    ),
    TaskMove.REASSIGN: Transition(
        frozenset({Q, C}),
        C,
        "review_task.reassigned",
        "review_reassigned",
        pgettext_lazy("task move", "reassigned"),
    ),
    TaskMove.PRIORITY: Transition(
        OPEN,
        None,
        "review_task.priority_changed",
        "review_priority_changed",
        pgettext_lazy("task move", "given another priority"),
    ),
    TaskMove.APPROVE: Transition(
        frozenset({C}),
        D,
        "review_task.decided",
        None,
        pgettext_lazy("task move", "approved"),
    ),
    TaskMove.FIRST_APPROVAL: Transition(
        frozenset({C}),
        D,
        "review_task.first_approval",
        "review_first_approval",
        pgettext_lazy("task move", "approved for a second review"),
    ),
    TaskMove.REJECT: Transition(
        frozenset({C}),
        D,
        "review_task.decided",
        None,
        pgettext_lazy("task move", "rejected"),
    ),
    TaskMove.REQUEST_INFO: Transition(
        frozenset({C}),
        W,
        "review_task.info_requested",
        None,
        pgettext_lazy("task move", "paused"),
    ),
    TaskMove.RESUME: Transition(
        frozenset({W}),
        Q,
        "review_task.resumed",
        None,
        pgettext_lazy("task move", "resumed"),
    ),
    TaskMove.CLOSE: Transition(
        OPEN,
        D,
        "review_task.closed",
        "review_closed",
        pgettext_lazy("task move", "closed"),
    ),
}

DECISION_MOVES = (TaskMove.APPROVE, TaskMove.REJECT, TaskMove.REQUEST_INFO)


def can_move(state: str, move: TaskMove) -> bool:
    """Whether the table allows ``move`` from ``state``."""
    return state in TRANSITIONS[move].sources


def sources_of(move: TaskMove) -> list[str]:
    """The states ``move`` may start from, sorted (the claim statement's filter)."""
    return sorted(TRANSITIONS[move].sources)


def target_of(move: TaskMove) -> str:
    target = TRANSITIONS[move].target
    assert target is not None
    return target


class IllegalTaskMove(ConflictError):
    default_code = "illegal_task_move"


def check_move(task: ReviewTask, move: TaskMove) -> Transition:
    """The table's row for ``move``; ``IllegalTaskMove`` when the task's state does
    not allow it."""
    transition = TRANSITIONS[move]
    if task.state not in transition.sources:
        raise IllegalTaskMove(
            _("A task that is “%(state)s” cannot be %(move)s.")
            % {
                "state": TaskState(task.state).label,
                "move": transition.label,
            },
            code="illegal_task_move",
            details={"state": task.state, "move": str(move)},
        )
    return transition


def record_move(
    task: ReviewTask,
    move: TaskMove,
    *,
    invoice: Invoice,
    actor: Any = None,
    params: dict[str, Any] | None = None,
    note: str = "",
    audit_data: dict[str, Any] | None = None,
) -> None:
    """The timeline event and the audit entry of a move already saved (in the
    caller's transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Record a task move inside the transaction that made it.")
    transition = TRANSITIONS[move]
    if transition.timeline:
        timeline_note(
            invoice,
            transition.timeline,
            actor=actor,
            params=params,
            note=note,
            visible=False,
        )
    audit_record(
        actor=actor,
        action=transition.audit,
        obj=invoice,
        data={"task": task.pk, **(audit_data or {})},
    )


def task_move(
    task: ReviewTask,
    move: TaskMove,
    *,
    invoice: Invoice,
    actor: Any = None,
    changes: dict[str, Any] | None = None,
    extra_fields: tuple[str, ...] | list[str] = (),
    params: dict[str, Any] | None = None,
    note: str = "",
    audit_data: dict[str, Any] | None = None,
) -> ReviewTask:
    """Apply ``move`` to ``task`` (locked by the caller): check it against the table,
    set ``changes`` and the target state, save only those fields (plus
    ``extra_fields`` the caller set itself), then write the timeline event and the
    audit entry in the same transaction."""
    transition = check_move(task, move)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Move a task inside the transaction that locks it.")
    fields = list(dict.fromkeys([*(changes or {}), *extra_fields]))
    for name, value in (changes or {}).items():
        setattr(task, name, value)
    if transition.target is not None and transition.target != task.state:
        task.state = transition.target
        fields.append("state")
    if fields:
        task.save(update_fields=fields)
    record_move(
        task,
        move,
        invoice=invoice,
        actor=actor,
        params=params,
        note=note,
        audit_data=audit_data,
    )
    return task


# ---------------------------------------------------------------- capabilities


@dataclass(frozen=True)
class TaskCapabilities:
    """What ``user`` may do with a task now: pages show the buttons, the API
    answers the same way (the services enforce it under the lock)."""

    can_claim: bool = False
    can_release: bool = False
    can_decide: bool = False
    can_reassign: bool = False
    can_set_priority: bool = False
    mine: bool = False


def task_capabilities(
    task: ReviewTask, user: Any, *, separation_problem: str | None = None
) -> TaskCapabilities:
    state = task.state
    reviewer = user_can(user, Perm.REVIEW)
    supervisor = user_can(user, Perm.SUPERVISE)
    mine = state == C and task.assigned_to_id == user.pk
    separated = separation_problem is None
    return TaskCapabilities(
        can_claim=reviewer and separated and can_move(state, TaskMove.CLAIM),
        can_release=can_move(state, TaskMove.RELEASE) and (mine or supervisor),
        can_decide=mine
        and separated
        and all(can_move(state, m) for m in DECISION_MOVES),
        can_reassign=supervisor and can_move(state, TaskMove.REASSIGN),
        can_set_priority=supervisor and can_move(state, TaskMove.PRIORITY),
        mine=mine,
    )
