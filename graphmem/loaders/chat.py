"""Messages as chat APIs give them (OpenAI, Anthropic and the frameworks built on them).

An agent hands its memory the messages its model API returned. Their ``content`` is a string or
a list of content parts (``{"type": "text", "text": ...}``, ``input_text``, ``output_text``,
images, tool calls and tool results); an assistant message that only calls a tool has no text
at all; ``name`` tells apart participants of one role; and ``tool_calls``, ``tool_call_id``,
``function_call`` and ``refusal`` are plumbing. :meth:`graphmem.Memory.add` and the JSONL
loader read them through this module:

* the text of a message is its string content, or its text parts joined by a blank line;
* a message with no text that calls a tool, or whose parts hold no text (an image, a tool
  result), has nothing to remember: it is skipped and counted, never an error;
* the speaker is ``speaker`` when given, else ``name`` for a user's message (a participant of
  a group chat), else ``role`` (so an assistant stays recognisably an assistant);
* a model SDK's message object (a pydantic model, such as the assistant message of an OpenAI
  chat completion or an Anthropic ``Message``) is read through ``model_dump()``, keeping the
  fields a message has; the response's own fields (model, usage, stop reason) are dropped.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from graphmem.errors import InputError, reject_lone_surrogates

__all__ = ["MESSAGE_FIELDS", "CHAT_API_FIELDS", "RESPONSE_FIELDS", "TEXT_PART_TYPES", "content_text", "calls_a_tool", "message_text",
           "message_caption", "message_metadata", "reject_unknown_fields", "speaker_fields", "is_sdk_message", "sdk_message",
           "FRAMEWORK_FIELDS", "FRAMEWORK_ROLES", "framework_message", "validate_messages_query"]

#: Content-part types whose ``text`` is the message's text (other parts carry none).
TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})

#: graphmem's own message fields (see :meth:`graphmem.Memory.add`).
MESSAGE_FIELDS = frozenset({"speaker", "role", "text", "content", "timestamp", "id", "caption", "metadata"})

#: Chat-API message fields accepted beside graphmem's own: ``name`` (see
#: :func:`speaker_fields`) and tool plumbing, which a memory does not keep.
CHAT_API_FIELDS = frozenset({"name", "tool_calls", "tool_call_id", "function_call", "refusal"})

#: Fields a model API's response gives a message, which a memory does not keep: OpenAI's
#: ``annotations`` and ``audio`` (a chat completion), ``type`` and ``status`` (a response's
#: output item), Anthropic's ``model``, ``usage``, ``stop_reason``, ``stop_sequence`` and
#: ``container``. A message saved as the API returned it (``model_dump()``, a JSONL log)
#: passes them; they are passed over, as :func:`sdk_message` drops them from an SDK object.
RESPONSE_FIELDS = frozenset({"annotations", "audio", "type", "status", "model", "usage", "stop_reason", "stop_sequence",
                             "container"})

#: Fields an agent framework's message carries beside the chat API's, which a memory does not
#: keep: LangChain's ``additional_kwargs``, ``response_metadata``, ``example``,
#: ``invalid_tool_calls``, ``usage_metadata`` and a tool message's ``artifact``.
FRAMEWORK_FIELDS = frozenset({"additional_kwargs", "response_metadata", "example", "invalid_tool_calls", "usage_metadata",
                              "artifact"})

#: LangChain's message ``type`` -> the chat role it stands for (a ``chat`` message names its own ``role``).
FRAMEWORK_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "function",
                   "HumanMessageChunk": "user", "AIMessageChunk": "assistant", "SystemMessageChunk": "system",
                   "ToolMessageChunk": "tool", "FunctionMessageChunk": "function"}

_TOOL_CALL_FIELDS = ("tool_calls", "function_call")


def framework_message(message: Mapping[str, Any]) -> Mapping[str, Any]:
    """``message`` as a chat message when an agent framework wrote it: a LangChain message
    (``model_dump()``: ``{"type": "human", "content": ...}``) takes the role its ``type`` stands
    for, and one serialised by ``messages_to_dict`` (``{"type": "human", "data": {...}}``) is
    unwrapped first. Any other message is returned as it is."""
    if set(message) == {"type", "data"} and isinstance(message.get("data"), Mapping):
        message = message["data"]
    if message.get("role") is None and message.get("speaker") is None and message.get("type") in FRAMEWORK_ROLES:
        return {**message, "role": FRAMEWORK_ROLES[message["type"]]}
    return message


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def content_text(value: Any, where: str) -> str | None:
    """The text of a message's content.

    Args:
        value: a string (returned as it is), or a list of content parts: strings, or
            objects whose ``type`` is one of :data:`TEXT_PART_TYPES` (or absent) with a string
            ``text``; parts of other types (images, tool use, tool results) are passed over.
        where: names the field in errors (``messages[2].content``).

    Returns:
        The text, the text parts joined by a blank line, or ``None`` when the parts hold no
        text that is not blank.

    Raises:
        InputError: neither a string nor a list of parts, or a malformed part (naming its index).
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, Sequence) or isinstance(value, (bytes, bytearray)):
        raise InputError(f"{where}: expected text or a list of content parts, got {_type_name(value)}")
    texts: list[str] = []
    for index, part in enumerate(value):
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, Mapping):
            raise InputError(f"{where}[{index}]: expected a content part (an object or text), got {_type_name(part)}")
        if part.get("type", "text") not in TEXT_PART_TYPES:
            continue
        text = part.get("text")
        if not isinstance(text, str):
            raise InputError(f"{where}[{index}].text: expected text, got {_type_name(text)}")
        texts.append(text)
    texts = [text for text in texts if text.strip()]
    return "\n\n".join(texts) if texts else None


def message_text(message: Mapping[str, Any], where: str) -> tuple[str | None, str] | None:
    """The field holding the text of ``message`` and that text, or ``None`` when the message
    has nothing to remember (skipped, never an error).

    The field is ``text``, else ``content``: the first that is not null. Its text is the
    string as it is (the caller validates it: blank, encoding), or the text parts of a list
    joined (:func:`content_text`). Nothing to remember: a tool call with no or blank text, or
    content parts without a text part, or a chat API's message with null content (a refusal, an
    empty ``tool_calls``: it carries their fields). Neither field set otherwise: ``(None, "")``,
    for the caller to report the missing field its own way.

    Raises:
        InputError: malformed content parts (see :func:`content_text`), naming ``where``.
    """
    name = next((n for n in ("text", "content") if message.get(n) is not None), None)
    if name is None:
        plumbing = any(field in message for field in CHAT_API_FIELDS if field != "name")
        return None if plumbing or calls_a_tool(message) else (None, "")
    value = message[name]
    if isinstance(value, str):
        return None if calls_a_tool(message) and not value.strip() else (name, value)
    text = content_text(value, f"{where}.{name}")
    return None if text is None else (name, text)


def reject_unknown_fields(message: Mapping[str, Any], where: str, own: frozenset[str] = MESSAGE_FIELDS) -> None:
    """Refuse a field that is neither one of ``own`` nor a chat API's (:data:`CHAT_API_FIELDS`,
    :data:`RESPONSE_FIELDS`): a field the caller wrote that a memory would not keep (a typo
    such as ``captoin``) is a mistake to report, not text to lose silently.

    Raises:
        InputError: naming the first unknown field (sorted) and the fields expected.
    """
    unknown = sorted(str(k) for k in message
                     if k not in own and k not in CHAT_API_FIELDS and k not in RESPONSE_FIELDS and k not in FRAMEWORK_FIELDS)
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r} (expected {', '.join(sorted(own))}, "
                         f"or a chat API's {', '.join(sorted(CHAT_API_FIELDS))})")


def message_caption(message: Mapping[str, Any], where: str) -> str | None:
    """The ``caption`` of ``message`` (a description of an attached image); ``None`` when absent,
    null or blank.

    Raises:
        InputError: the caption is not text.
    """
    caption = message.get("caption")
    if caption is not None and not isinstance(caption, str):
        raise InputError(f"{where}.caption: expected text, got {_type_name(caption)}")
    return caption if caption and caption.strip() else None


def message_metadata(message: Mapping[str, Any], where: str) -> tuple[tuple[str, object], ...]:
    """The ``metadata`` of ``message``, as sorted ``(key, value)`` pairs (each stored as a
    ``meta_<key>`` property of its turn); empty when absent or null.

    Raises:
        InputError: not a mapping, or a value that is not a scalar (text, number, boolean,
            null), naming its key; a number no store keeps (NaN, an infinity, a whole number
            beyond 64 bits, a subnormal float such as 5e-324), which would fail the write or every
            JSON answer holding it, or come back as another type.
    """
    return metadata_pairs(message.get("metadata") or {}, f"{where}.metadata")


#: The longest metadata key: each key is the name of a turn property (``meta_<key>``), which the
#: embedded database lists for good in its dictionary of names.
MAX_METADATA_KEY = 256


def metadata_pairs(metadata: Any, where: str, *, null: bool = True) -> tuple[tuple[str, object], ...]:
    """``metadata`` (a mapping of scalars) as sorted ``(key, value)`` pairs: a message's, or a
    search's metadata filter (``null=False``: a filter cannot ask for a null, which is never stored).

    Raises:
        InputError: as :func:`message_metadata`, ``where`` naming the mapping.
    """
    if not isinstance(metadata, Mapping):
        raise InputError(f"{where}: expected a mapping, got {_type_name(metadata)}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not ((null and value is None) or isinstance(value, (str, int, float, bool))):
            raise InputError(f"{where}.{key}: values must be scalars (text, number, boolean{', null' * null})")
        if len(key) > MAX_METADATA_KEY:  # a key is a property name the database keeps for good (70,000: a Java error)
            raise InputError(f"{where}: a key of {len(key)} characters ({key[:40]!r}...); at most {MAX_METADATA_KEY}")
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{where}.{key}: {value} is not a finite number")
        if isinstance(value, float) and value and abs(value) < sys.float_info.min:
            # subnormal: the embedded store keeps some (5e-324) as a decimal, not a float, which check then
            # calls malformed and export refuses
            raise InputError(f"{where}.{key}: {value} is closer to 0 than the smallest normal float "
                             f"({sys.float_info.min}); the store cannot keep it exactly")
        if isinstance(value, int) and not isinstance(value, bool) and not -(2 ** 63) <= value < 2 ** 63:
            raise InputError(f"{where}.{key}: {value} is beyond a 64-bit whole number")
    return tuple(sorted(metadata.items()))


def calls_a_tool(message: Mapping[str, Any]) -> bool:
    """Whether ``message`` calls a tool (``tool_calls`` or ``function_call``)."""
    return any(message.get(name) for name in _TOOL_CALL_FIELDS)


def speaker_fields(message: Mapping[str, Any]) -> tuple[str, str]:
    """The two fields, in order, that name the speaker of ``message``: ``speaker``, then
    ``name`` for a user's message that has one, else ``role``."""
    if message.get("name") is not None and message.get("role") == "user":
        return ("speaker", "name")
    return ("speaker", "role")


def is_sdk_message(item: Any) -> bool:
    """Whether ``item`` is a model SDK's message object (see :func:`sdk_message`)."""
    return not isinstance(item, Mapping) and callable(getattr(item, "model_dump", None))


def sdk_message(item: Any, *, json: bool = False) -> dict[str, Any] | None:
    """``item`` as a mapping of the message fields (:data:`MESSAGE_FIELDS` and
    :data:`CHAT_API_FIELDS`) when it is a model SDK's message object (it has a pydantic
    ``model_dump()``), else ``None``; with ``json``, values as JSON would carry them.

    Only the message's fields are kept: an SDK object also carries the response's (``model``,
    ``usage``, ``stop_reason``, ...), which are not typos of the caller, unlike the unknown
    keys of a mapping it wrote itself (those stay refused). An Anthropic message's ``id``
    becomes the message id.
    """
    if not is_sdk_message(item):
        return None
    data = item.model_dump(mode="json") if json else item.model_dump()
    if not isinstance(data, Mapping):
        return None
    data = framework_message(data)  # a LangChain message: its type says its role
    return {key: value for key, value in data.items() if key in MESSAGE_FIELDS or key in CHAT_API_FIELDS}


def validate_turn_id(turn_id: Any) -> None:
    """Check a turn id given to :meth:`Memory.history` or :meth:`Memory.correct` (the clients check it with this too).

    Raises:
        InputError: not a non-empty text, or not valid Unicode.
    """
    if not isinstance(turn_id, str) or not turn_id.strip():
        raise InputError(f"turn_id: expected a turn id, got {turn_id!r}")
    reject_lone_surrogates(turn_id, "turn_id")


def validate_correction(turn_id: Any, text: Any, speaker: Any, caption: Any, metadata: Any) -> None:
    """Check that :meth:`Memory.correct` was given a turn id and something to change (the values are
    checked as a message's, by :func:`graphmem.ingest.live.corrected_record`).

    Raises:
        InputError: a bad turn id, or nothing to change.
    """
    validate_turn_id(turn_id)
    if text is None and speaker is None and caption is None and metadata is None:
        raise InputError("correct: nothing to change (give text, speaker, caption or metadata)")


def validate_messages_query(conversation: Any, session: Any, last: Any, before: Any = None) -> None:
    """Check :meth:`Memory.messages`'s arguments (the server and :class:`~graphmem.client.Client` check them with this too).

    Raises:
        InputError: naming the argument.
    """
    if not isinstance(conversation, str) or not conversation.strip():
        raise InputError(f"conversation: expected a non-empty key, got {conversation!r}")
    if session is not None and (not isinstance(session, str) or not session.strip()):
        raise InputError(f"session: expected a non-empty key or None, got {session!r}")
    if last is not None and (not isinstance(last, int) or isinstance(last, bool) or last < 1):
        raise InputError(f"last: expected a positive number of messages or None, got {last!r}")
    if before is not None and (not isinstance(before, str) or not before.strip()):
        raise InputError(f"before: expected a turn id (a message's turn_id) or None, got {before!r}")
    reject_lone_surrogates({"conversation": conversation, "session": session, "before": before}, "")
