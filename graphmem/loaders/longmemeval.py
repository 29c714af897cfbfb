"""LongMemEval (Wu et al., ICLR 2025): ``longmemeval_s``, ``_m`` and ``_oracle`` files.

Each question carries its own haystack of sessions; every question becomes one
conversation keyed by its ``question_id``, its sessions keep their haystack ids and
dates, and turns get the stable source ids ``<session_id>:<index>``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphmem.errors import InputError
from graphmem.loaders.checks import require_dict, require_list, require_str
from graphmem.loaders.dates import parse_datetime
from graphmem.records import ConversationRecord, SessionRecord, TurnRecord

__all__ = ["LongMemEvalQuestion", "is_longmemeval", "parse_longmemeval"]

logger = logging.getLogger(__name__)

REQUIRED = ("question_id", "question_type", "question", "haystack_session_ids", "haystack_sessions")


@dataclass(frozen=True)
class LongMemEvalQuestion:
    """One LongMemEval question with its haystack as a conversation.

    Attributes:
        question_id, question_type, question, question_date, answer: as in the file.
        answer_session_ids: haystack session ids holding the answer.
        answer_turn_ids: source ids (``<session_id>:<index>``) of turns marked ``has_answer``.
        conversation: the haystack.
    """

    question_id: str
    question_type: str
    question: str
    question_date: str | None
    answer: Any
    answer_session_ids: tuple[str, ...]
    answer_turn_ids: tuple[str, ...]
    conversation: ConversationRecord

    @property
    def is_abstention(self) -> bool:
        """Abstention questions (ids ending in ``_abs``) have no evidence to retrieve."""
        return self.question_id.endswith("_abs")


def is_longmemeval(data: Any) -> bool:
    """True for a list of LongMemEval question objects."""
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and "haystack_sessions" in data[0]


def _parse_question(path: Path, index: int, raw: Any) -> LongMemEvalQuestion:
    where = f"[{index}]"
    item = require_dict(path, where, raw)
    for name in REQUIRED:
        if name not in item:
            raise InputError(f"{path}: {where}: missing field '{name}'")
    if not isinstance(item["question_id"], (str, int)) or isinstance(item["question_id"], bool) or not str(item["question_id"]).strip():
        raise InputError(f"{path}: {where}.question_id: expected a text or number id, got {item['question_id']!r}")
    qid = str(item["question_id"])
    require_str(path, where, item, "question")
    ids = require_list(path, f"{where}.haystack_session_ids", item["haystack_session_ids"])
    sessions_raw = require_list(path, f"{where}.haystack_sessions", item["haystack_sessions"])
    dates = item.get("haystack_dates") or [None] * len(sessions_raw)
    dates = require_list(path, f"{where}.haystack_dates", dates)
    if not (len(ids) == len(sessions_raw) == len(dates)):
        raise InputError(f"{path}: {where}: haystack_session_ids ({len(ids)}), haystack_sessions ({len(sessions_raw)}) "
                         f"and haystack_dates ({len(dates)}) differ in length")
    sessions: list[SessionRecord] = []
    gold_turns: list[str] = []
    seen: set[str] = set()
    for number, (sid, date_text, turns_raw) in enumerate(zip(ids, dates, sessions_raw), start=1):
        swhere = f"{where}.haystack_sessions[{number - 1}]"
        sid = str(sid)
        if sid in seen:  # a repeated session id in one haystack: keep the first copy
            logger.warning("%s: %s: repeated session id %r ignored", path, swhere, sid)
            continue
        seen.add(sid)
        if date_text is not None and not isinstance(date_text, str):
            raise InputError(f"{path}: {where}.haystack_dates[{number - 1}]: expected a date text, got {date_text!r}")
        started = parse_datetime(date_text) if isinstance(date_text, str) else None
        if isinstance(date_text, str) and date_text.strip() and started is None:
            raise InputError(f"{path}: {where}.haystack_dates[{number - 1}]: {date_text[:60]!r} is not a date")
        turns: list[TurnRecord] = []
        for ti, raw_turn in enumerate(require_list(path, swhere, turns_raw)):
            turn = require_dict(path, f"{swhere}[{ti}]", raw_turn)
            role = require_str(path, f"{swhere}[{ti}]", turn, "role")
            content = require_str(path, f"{swhere}[{ti}]", turn, "content", allow_empty=True)
            source_id = f"{sid}:{ti}"
            if not content.strip():
                if turn.get("has_answer") is True:  # (it is not stored: as gold no ranking could ever hold it)
                    logger.warning("%s: %s[%d]: an empty message marked has_answer is left out of the gold turns", path, swhere, ti)
                continue  # empty messages exist in the published files; ids of the others stay stable
            if turn.get("has_answer") is True:
                gold_turns.append(source_id)
            turns.append(TurnRecord(speaker=role, text=content, source_id=source_id, timestamp=started))
        if turns:
            sessions.append(SessionRecord(key=sid, number=number, started_at=started,
                                          date_text=date_text if isinstance(date_text, str) else None, turns=tuple(turns)))
    asked = item.get("question_date")
    if asked is not None and not isinstance(asked, str):
        raise InputError(f"{path}: {where}.question_date: expected a date text, got {asked!r}")
    if isinstance(asked, str) and asked.strip() and parse_datetime(asked) is None:
        raise InputError(f"{path}: {where}.question_date: {asked[:60]!r} is not a date")
    answers = item.get("answer_session_ids") or []
    answers = require_list(path, f"{where}.answer_session_ids", answers)
    conversation = ConversationRecord(key=qid, sessions=tuple(sessions), speakers=("user", "assistant"), source=str(path))
    return LongMemEvalQuestion(
        question_id=qid, question_type=str(item["question_type"]), question=item["question"],
        question_date=item.get("question_date"), answer=item.get("answer"),
        answer_session_ids=tuple(str(a) for a in answers), answer_turn_ids=tuple(gold_turns), conversation=conversation,
    )


def parse_longmemeval(path: Path, data: Any) -> list[LongMemEvalQuestion]:
    """Validate and convert a parsed LongMemEval file (a list of question objects)."""
    items = require_list(path, "top level", data)
    if not items:
        raise InputError(f"{path}: top level: empty list, no questions")
    questions = [_parse_question(path, i, raw) for i, raw in enumerate(items)]
    first: dict[str, int] = {}
    for i, question in enumerate(questions):  # (the second haystack replaced the first's messages as corrections)
        if question.question_id in first:
            raise InputError(f"{path}: [{i}].question_id: duplicate question id {question.question_id!r} "
                             f"(also [{first[question.question_id]}])")
        first[question.question_id] = i
    return questions
