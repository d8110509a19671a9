"""Drafts (草稿): files kept byte for byte without validating or deploying, checked and deployed later like an
upload."""
from __future__ import annotations

from sqlalchemy import select

from engine.bpmn.source import DiagramSource
from engine.core import audit
from engine.core.clock import Clock
from engine.core.db import db, fetch
from engine.core.models import DiagramDraft, User
from engine.core.transaction import transaction
from engine.library.deploying import BindingRequest, Deployed, check_diagram, deploy_and_bind, diagram_notices
from engine.policy.permissions import require_editor


def save_draft(editor: User, source: DiagramSource, note: str, clock: Clock) -> DiagramDraft:
    """草稿: keep a file (uploaded or saved from the modeler) byte for byte, without validating or deploying."""
    require_editor(editor)
    with transaction():
        draft = DiagramDraft(file_name=source.file_name, content=source.content, sha256=source.sha256,
                             note=(note or "").strip()[:300], saved_at=clock.now(), saved_by=editor.username)
        db.session.add(draft)
        db.session.flush()
        audit.record(clock.now(), editor.username, "draft_saved", draft_id=draft.id, file=draft.file_name,
                     sha256=draft.sha256, note=draft.note)
    return draft


def drafts() -> list[DiagramDraft]:
    return list(db.session.scalars(select(DiagramDraft).order_by(DiagramDraft.id.desc())))


def get_draft(draft_id: int) -> DiagramDraft:
    return fetch(DiagramDraft, draft_id, "草稿")


def check_draft(draft_id: int) -> list[str]:
    """Validate a draft like an upload; DiagramInvalid if it would be refused."""
    draft = get_draft(draft_id)
    return check_diagram(DiagramSource(draft.file_name, draft.content))


def draft_notices(draft_id: int) -> list[str]:
    """The notices (提示) a deploy of the draft would give (engine.library.deploying.diagram_notices)."""
    draft = get_draft(draft_id)
    return diagram_notices(DiagramSource(draft.file_name, draft.content))


def deploy_draft(editor: User, draft_id: int, clock: Clock, binding: BindingRequest | None = None
                 ) -> Deployed:
    """Deploy a draft (its bytes exactly) as new versions, bound like an upload when asked; refused like an
    invalid upload."""
    require_editor(editor)
    with transaction():
        draft = get_draft(draft_id)
        versions = deploy_and_bind(editor, DiagramSource(draft.file_name, draft.content), clock, binding)
        audit.record(clock.now(), editor.username, "draft_deployed", draft_id=draft.id,
                     versions=[f"{v.process_key} v{v.version}" for v in versions])
    return versions
