"""Loaders: every format parsed into the same records; bad input refused with file and place."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from graphmem.errors import InputError
from graphmem.loaders import load

LOCOMO = [{
    "sample_id": "conv-x",
    "conversation": {
        "speaker_a": "Ann", "speaker_b": "Bo",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a cat named Miso."},
            {"speaker": "Bo", "dia_id": "D1:2", "text": "Cute! Here is my garden.", "blip_caption": "a photo of tomatoes"},
        ],
        "session_2_date_time": "10:37 am on 27 June, 2023",
        "session_2": [{"speaker": "Ann", "dia_id": "D2:1", "text": "Miso knocked over my plant."}],
    },
    "qa": [],
}]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_locomo_layout(tmp_path):
    (conv,) = load(write(tmp_path, "x.json", json.dumps(LOCOMO)))
    assert conv.key == "conv-x"
    assert conv.speakers == ("Ann", "Bo")
    assert [s.number for s in conv.sessions] == [1, 2]
    assert conv.sessions[0].started_at.isoformat() == "2023-05-08T13:56:00"
    turn = conv.sessions[0].turns[1]
    assert (turn.source_id, turn.caption) == ("D1:2", "a photo of tomatoes")
    assert turn.indexed_text == "Bo: Cute! Here is my garden. [image: a photo of tomatoes]"


def test_locomo_gzip_is_read(tmp_path):
    (conv,) = load(write(tmp_path, "x.json.gz", gzip.compress(json.dumps(LOCOMO).encode())))
    assert conv.turn_count == 3


def test_jsonl_messages(tmp_path):
    lines = [
        {"role": "user", "content": "I moved to Lisbon.", "timestamp": "2024-01-02T10:00:00Z"},
        {"speaker": "assistant", "text": "How is it?", "id": 7},
        {"role": "user", "content": "Sunny.", "session": "2"},
    ]
    (conv,) = load(write(tmp_path, "chat.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n"))
    assert conv.key == "chat"
    assert [len(s.turns) for s in conv.sessions] == [2, 1]
    assert conv.sessions[0].turns[0].timestamp.isoformat() == "2024-01-02T10:00:00"
    assert conv.sessions[0].turns[1].source_id == "7"
    assert conv.speakers == ("user", "assistant")


def test_jsonl_keeps_caption_and_metadata_and_refuses_other_fields(tmp_path):
    """A line carries what `Memory.add` takes (caption, metadata) and is read the same way; a
    field the memory would not keep is an error naming its line, never dropped silently."""
    lines = [{"role": "user", "content": "Look at this.", "caption": "a photo of a dog", "id": "a1",
              "metadata": {"channel": "sms", "rating": 4, "seen": True, "note": None}},
             {"role": "assistant", "content": "Cute!", "caption": "  "}]
    (conv,) = load(write(tmp_path, "cap.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n"))
    first, second = conv.sessions[0].turns
    assert first.caption == "a photo of a dog"
    assert first.metadata == (("channel", "sms"), ("note", None), ("rating", 4), ("seen", True))
    assert first.indexed_text == "user: Look at this. [image: a photo of a dog]"
    assert (second.caption, second.metadata) == (None, ())
    bad = [({"role": "user", "content": "x", "colour": "red"}, r"line 2: unknown field 'colour'"),
           ({"role": "user", "content": "x", "metadata": {"k": [1]}}, r"line 2\.metadata\.k: values must be scalars"),
           ({"role": "user", "content": "x", "metadata": "sms"}, r"line 2\.metadata: expected a mapping"),
           ({"role": "user", "content": "x", "caption": 3}, r"line 2\.caption: expected text")]
    dump = json.dumps({"format": "graphmem.dump/1", "namespace": "n"}) + "\n" + json.dumps({"kind": "node"}) + "\n"
    with pytest.raises(InputError, match=r"memory\.jsonl: a graphmem dump \(graphmem\.dump/1\), not messages: load it with `graphmem import`"):
        load(write(tmp_path, "memory.jsonl", dump))
    for line, message in bad:
        text = json.dumps({"role": "user", "content": "fine"}) + "\n" + json.dumps(line) + "\n"
        with pytest.raises(InputError, match=r"bad\.jsonl: " + message):
            load(write(tmp_path, "bad.jsonl", text))


def test_jsonl_of_messages_saved_as_the_sdks_return_them(tmp_path):
    """A log of `model_dump()`s carries the response's fields (annotations, audio, model, usage,
    stop_reason, ...): they are passed over, and only a field no API writes is refused."""
    from samples import AnthropicMessage, OpenAIMessage

    lines = [{"role": "user", "content": "Which train goes to Porto?"},
             OpenAIMessage(content="The Alfa Pendular.").model_dump(mode="json"),
             AnthropicMessage(id="msg_1", content=[{"type": "text", "text": "It leaves at 9."}]).model_dump(mode="json")]
    (conv,) = load(write(tmp_path, "sdk.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n"))
    turns = conv.sessions[0].turns
    assert [(t.speaker, t.text, t.source_id) for t in turns] == [
        ("user", "Which train goes to Porto?", None), ("assistant", "The Alfa Pendular.", None),
        ("assistant", "It leaves at 9.", "msg_1")]


def test_jsonl_of_chat_api_messages(tmp_path):
    """A transcript saved from a model API: content parts, a user's name, tool calls; lines
    with no text to remember are skipped."""
    lines = [
        {"role": "user", "name": "maya", "content": [{"type": "input_text", "text": "I moved to Lisbon."}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]},
        {"role": "tool", "tool_call_id": "c1", "content": "weather: sunny"},
        {"role": "assistant", "content": [{"type": "text", "text": "Sunny."}, {"type": "image", "source": {}}]},
        # an OpenAI refusal, and an assistant message with no content and no call, as model_dump() saves them
        {"role": "assistant", "content": None, "refusal": "I can't help with that.", "annotations": None, "audio": None,
         "function_call": None, "tool_calls": None},
        {"role": "assistant", "content": None, "tool_calls": []},
    ]
    (conv,) = load(write(tmp_path, "api.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n"))
    assert [(t.speaker, t.text) for t in conv.sessions[0].turns] == [
        ("maya", "I moved to Lisbon."), ("tool", "weather: sunny"), ("assistant", "Sunny.")]
    with pytest.raises(InputError, match=r"only\.jsonl: no message with text \(1 lines"):
        load(write(tmp_path, "only.jsonl", json.dumps(lines[1]) + "\n"))
    with pytest.raises(InputError, match=r"none\.jsonl: line 1\.content: expected a string, got null"):  # nothing at all
        load(write(tmp_path, "none.jsonl", json.dumps({"role": "user", "content": None}) + "\n"))
    with pytest.raises(InputError, match=r"bad\.jsonl: line 1\.content\[0\]: expected a content part"):
        load(write(tmp_path, "bad.jsonl", json.dumps({"role": "user", "content": [3]}) + "\n"))


def test_transcript_with_sessions_and_continuations(tmp_path):
    text = "# Session 1: 2024-02-01\nAnn: Hello there\n  and welcome\nBo: Hi: nice to meet you\n\n# Session 2: 2024-02-09\nAnn: Back again\n"
    (conv,) = load(write(tmp_path, "talk.txt", text), conversation_id="talk-1")
    assert conv.key == "talk-1"
    assert [len(s.turns) for s in conv.sessions] == [2, 1]
    assert conv.sessions[0].turns[0].text == "Hello there\nand welcome"
    assert conv.sessions[0].turns[1].text == "Hi: nice to meet you"
    assert conv.sessions[1].started_at.isoformat() == "2024-02-09T00:00:00"


def test_a_transcript_may_use_the_fullwidth_colon(tmp_path):
    """"李明：我昨天去了北京。" (Chinese and Japanese write the colon fullwidth, with no space) was refused."""
    (conv,) = load(write(tmp_path, "chat.txt", "李明：我昨天去了北京。\n王芳： 真好！\nAnn: 10:30 works\n"))
    assert [(t.speaker, t.text) for t in conv.sessions[0].turns] == [("李明", "我昨天去了北京。"), ("王芳", "真好！"), ("Ann", "10:30 works")]


def test_native_format(tmp_path):
    doc = {"id": "n1", "sessions": [{"id": "a", "started_at": "2024-05-01T09:00:00", "turns": [
        {"speaker": "Zoë", "text": "Olá! 🌍 وصلت", "id": "t1", "caption": "a map", "metadata": {"lang": "pt", "n": 2}}]}]}
    (conv,) = load(write(tmp_path, "n.json", json.dumps(doc, ensure_ascii=False)))
    turn = conv.sessions[0].turns[0]
    assert (conv.key, conv.sessions[0].key, turn.speaker, turn.text, turn.source_id) == ("n1", "a", "Zoë", "Olá! 🌍 وصلت", "t1")
    assert turn.timestamp.isoformat() == "2024-05-01T09:00:00"
    assert turn.metadata == (("lang", "pt"), ("n", 2))  # kept as meta_* turn properties, as Memory.add keeps them
    doc["sessions"][0]["turns"][0]["metadata"] = {"tags": ["a"]}
    with pytest.raises(InputError, match=r"\.sessions\[0\]\.turns\[0\]\.metadata\.tags"):
        load(write(tmp_path, "m.json", json.dumps(doc)))
    # numbers no store keeps: they would fail the write, or every JSON answer holding them
    for value, message in ((float("nan"), "nan is not a finite number"), (10 ** 30, "1000000000000000000000000000000 is beyond a 64-bit whole number")):
        doc["sessions"][0]["turns"][0]["metadata"] = {"n": value}
        with pytest.raises(InputError, match=r"m\.json: \.sessions\[0\]\.turns\[0\]\.metadata\.n: " + message):
            load(write(tmp_path, "m.json", json.dumps(doc)))
    doc["sessions"][0]["turns"][0]["metadata"] = {}
    doc["metadata"] = {"n": float("inf")}
    with pytest.raises(InputError, match=r"m\.json: top level\.metadata\.n: inf is not a finite number"):
        load(write(tmp_path, "m.json", json.dumps(doc)))
    # a session that does not say when it started starts at its first dated message, as a JSONL file's
    # (it had no start: a session hit said "date unknown" and a time filter on sessions found nothing)
    undated = {"id": "n2", "sessions": [{"id": "a", "turns": [
        {"speaker": "Ana", "text": "Morning."},
        {"speaker": "Bo", "text": "Hi.", "timestamp": "2024-03-16T10:00:00"},
        {"speaker": "Ana", "text": "Coffee?", "timestamp": "2024-03-16T10:05:00"}]}]}
    (conv,) = load(write(tmp_path, "u.json", json.dumps(undated)))
    assert conv.sessions[0].started_at == datetime(2024, 3, 16, 10)
    assert [t.timestamp for t in conv.sessions[0].turns] == [datetime(2024, 3, 16, 10), datetime(2024, 3, 16, 10),
                                                            datetime(2024, 3, 16, 10, 5)]


@pytest.mark.parametrize(
    ("name", "content", "fmt", "expected"),
    [
        ("bad.json", '[{"sample_id": "a",\n  "conversation": {]', "auto", r"bad\.json:2:\d+: malformed JSON"),
        ("t.json", json.dumps(LOCOMO)[:-40], "auto", r"t\.json:1:\d+: malformed JSON"),
        ("empty.json", "  \n", "auto", r"empty\.json: empty file"),
        ("wrong.json", json.dumps({"hello": 1}), "auto", r"unrecognised JSON layout"),
        ("types.json", json.dumps([{"sample_id": "a", "conversation": {"session_1": [{"speaker": 3, "dia_id": "D1:1", "text": "x"}]}}]), "auto",
         r"types\.json: \[0\]\.conversation\.session_1\[0\]\.speaker: expected a string, got int"),
        ("missing.json", json.dumps([{"sample_id": "a", "conversation": {"session_1": [{"speaker": "A", "text": "x"}]}}]), "auto",
         r"missing\.json: \[0\]\.conversation\.session_1\[0\]: missing field 'dia_id'"),
        ("nosess.json", json.dumps([{"sample_id": "a", "conversation": {"speaker_a": "A"}}]), "auto", r"no sessions with turns"),
        ("blank.json", json.dumps([{"sample_id": "a", "conversation": {"session_1": [{"speaker": "A", "dia_id": "D1:1", "text": "   "}]}}]), "auto", r"empty turn"),
        ("m.jsonl", '{"role": "user", "content": "hi"}\n{"role": "user", "content": }\n', "auto", r"m\.jsonl:2:\d+: malformed JSON"),
        ("f.jsonl", '{"role": "user"}\n', "auto", r"f\.jsonl: line 1: missing field 'text' \(or 'content'\)"),
        ("e.jsonl", "\n\n", "jsonl", r"e\.jsonl: no messages"),
        ("t.txt", "Ann: hi\nthis line has no speaker\n", "auto", r"t\.txt:2: expected 'Speaker: text'"),
        ("n.json", json.dumps({"id": "x", "sessions": [{"turns": [{"speaker": "A", "text": 5}]}]}), "native",
         r"n\.json: \.sessions\[0\]\.turns\[0\]\.text: 5 is not of type 'string'"),
        ("n2.json", json.dumps({"id": "x", "sessions": []}), "native", r"n2\.json: \.sessions: \[\] should be non-empty"),
    ],
)
def test_bad_input_names_file_and_place(tmp_path, name, content, fmt, expected):
    with pytest.raises(InputError, match=expected):
        load(write(tmp_path, name, content), fmt)


def test_missing_file_and_invalid_utf8(tmp_path):
    with pytest.raises(InputError, match=r"nope\.json: no such file"):
        load(tmp_path / "nope.json")
    with pytest.raises(InputError, match=r"bin\.txt:2:3: invalid UTF-8"):
        load(write(tmp_path, "bin.txt", b"Ann: hi\nBo\xff\xfe: x\n"))


def test_unknown_format_rejected(tmp_path):
    with pytest.raises(InputError, match="unknown format 'xml'"):
        load(write(tmp_path, "a.txt", "A: b"), "xml")


def test_a_file_graphmem_could_not_store_whole_is_refused_before_anything_is_stored(tmp_path):
    """Found by a bug hunt: a LoCoMo session number whose position overflowed 64 bits (every search of the
    namespace failed after), session_1 beside session_01 (the database refused the second after the file's
    earlier conversations were committed), an Arabic-Indic digit read as session 1, a blank conversation
    key (stored, but no call could name it)."""
    good = {"sample_id": "g1", "conversation": {"speaker_a": "A", "speaker_b": "B",
                                                  "session_1": [{"speaker": "A", "dia_id": "D1:1", "text": "hello"}]}}

    def locomo(name: str, sessions: dict) -> Path:
        other = {"sample_id": "x1", "conversation": {"speaker_a": "A", "speaker_b": "B", **sessions}}
        return write(tmp_path, name, json.dumps([good, other]))

    turn = [{"speaker": "A", "dia_id": "D9:1", "text": "Big."}]
    with pytest.raises(InputError, match=r"big\.json: conversation 'x1', session '9999999999999': its number .* 0 to 1,000,000,000"):
        load(locomo("big.json", {"session_9999999999999": turn}))
    with pytest.raises(InputError, match=r"conversation 'x1', session '1': the conversation has another session"):
        load(locomo("dup.json", {"session_1": turn, "session_01": turn}))
    with pytest.raises(InputError, match="no sessions with turns"):
        load(locomo("digits.json", {"session_\u0661": turn}))
    with pytest.raises(InputError, match=r"blank\.jsonl: a conversation's key is blank \('  '\)"):
        load(write(tmp_path, "blank.jsonl", json.dumps({"speaker": "A", "text": "quinces", "conversation": "  "}) + "\n"))
    plain = write(tmp_path, "plain.jsonl", json.dumps({"speaker": "A", "text": "quinces"}) + "\n")
    for key in ("", "  "):  # an empty key given is refused as a blank one is (it named the file's conversation)
        with pytest.raises(InputError, match=r"plain\.jsonl: a conversation's key is blank"):
            load(plain, conversation_id=key)


def test_a_date_must_say_its_day_and_an_offset_must_be_under_a_day(tmp_path):
    """Fuzzy parsing filled what a text did not say from today ("12" the 12th of this month, "1e10" the
    10th of January this year: a stored date that depends on the day of the ingest); an offset of a day
    or more raised ValueError from every loader."""
    from graphmem.loaders.dates import parse_datetime

    assert parse_datetime("1:56 pm on 8 May, 2023") == datetime(2023, 5, 8, 13, 56)
    assert parse_datetime("2023/05/20 (Sat) 02:21") == datetime(2023, 5, 20, 2, 21)
    for vague in ("12", "1e10", "-1", "May 2023", "5pm", "2024-03-16T19:30:00+25:00"):
        assert parse_datetime(vague) is None, vague
    for text in ("12", "2024-03-16T19:30:00+25:00"):
        line = json.dumps({"role": "user", "content": "a", "timestamp": text})
        with pytest.raises(InputError, match=r"line 1\.timestamp: not a date"):
            load(write(tmp_path, "vague.jsonl", line + "\n"))


def test_a_date_written_with_dots_is_day_first():
    """"12.03.2024 14:30" was stored as the 3rd of December and the next message's "13.03.2024" as the
    13th of March: the month-first reading flipped from message to message."""
    from graphmem.loaders.dates import parse_datetime

    for text, expected in (("12.03.2024 14:30", datetime(2024, 3, 12, 14, 30)), ("13.03.2024", datetime(2024, 3, 13)),
                           ("05.04.2024", datetime(2024, 4, 5)), ("5.4.24 10:00", datetime(2024, 4, 5, 10)),
                           ("2024.03.12", datetime(2024, 3, 12)), ("03/12/2024", datetime(2024, 3, 12))):
        assert parse_datetime(text) == expected, text


def test_an_offset_after_gmt_and_a_zone_by_name_are_read_as_they_mean(tmp_path):
    """dateutil reads "GMT+0100" (JavaScript's Date.toString()) and "UTC+02:00" the POSIX way, sign
    inverted: stored two and four hours off; a zone by name ("Asia/Tokyo", "[Europe/Berlin]") was
    passed over by the fuzzy parse and the time read in the memory's zone; "Pacific Time" too."""
    from graphmem.loaders.dates import parse_datetime

    def utc(text: str) -> datetime:
        parsed = parse_datetime(text)
        assert parsed is not None and parsed.tzinfo is not None, text
        return parsed.astimezone(timezone.utc).replace(tzinfo=None)

    assert utc("Sat Mar 16 2024 10:00:00 GMT+0100 (Central European Standard Time)") == datetime(2024, 3, 16, 9)
    assert utc("2024-03-16 10:00 UTC+02:00") == datetime(2024, 3, 16, 8)
    assert utc("2024-03-16 10:00 GMT-5") == datetime(2024, 3, 16, 15)
    assert utc("2024-03-16 10:00 UTC+5:30") == datetime(2024, 3, 16, 4, 30)
    assert utc("2024-03-16T10:00:00 Asia/Tokyo") == datetime(2024, 3, 16, 1)
    assert utc("2024-03-16T10:00:00[Europe/Berlin]") == datetime(2024, 3, 16, 9)
    assert utc("2024-07-16 23:30 America/New_York") == datetime(2024, 7, 17, 3, 30)  # summer time
    assert utc("2024-03-16 10:00 Etc/GMT+5") == datetime(2024, 3, 16, 15)  # the IANA name's own (POSIX) sign
    for unreadable in ("2024-03-16 10:00 Europe/Atlantis", "2024-03-16 10:00 Pacific Time", "2024-03-16 10:00 Central European Time",
                       "16 March 2024 10:00 Singapore Standard Time", "2024-03-16 10:00 Israel Daylight Time", "2024-03-16 10:00 Brasilia Time"):
        assert parse_datetime(unreadable) is None, unreadable
    # what only looks like a zone stays a date, as it was read before the zones were (a log's "10/Mar/2024",
    # a mail client's "Gmail/iPhone", a label's "Local Time"); a compact date and time is no Unix time
    for text, expected in (("16/Mar/2024:10:00:00 +0000", datetime(2024, 3, 16, 10, tzinfo=timezone.utc)),
                           ("10/Mar/2024 10:00", datetime(2024, 3, 10, 10)), ("Date/Time: 2024-03-16 10:00", datetime(2024, 3, 16, 10)),
                           ("2024-03-16 10:00 (sent from Gmail/iPhone)", datetime(2024, 3, 16, 10)),
                           ("Start Time: 2024-03-16 10:00", datetime(2024, 3, 16, 10)), ("2024-03-16 10:00 Local Time", datetime(2024, 3, 16, 10)),
                           ("202403161030", datetime(2024, 3, 16, 10, 30)), ("20240316103000", datetime(2024, 3, 16, 10, 30))):
        assert parse_datetime(text) == expected, text
    assert parse_datetime("20240231103000") is None
    path = write(tmp_path, "zones.jsonl", "".join(json.dumps({"role": "user", "content": f"m{n}", "timestamp": stamp}) + "\n"
                                                  for n, stamp in enumerate(("2024-03-16 10:00 GMT+1", "2024-03-16 10:00 Asia/Tokyo"))))
    assert [t.timestamp for t in load(path)[0].sessions[0].turns] == [datetime(2024, 3, 16, 9), datetime(2024, 3, 16, 1)]


def test_a_file_name_holding_a_byte_that_is_no_text(tmp_path):
    """`caf\\xe9.jsonl` (a Latin-1 name on a UTF-8 system) made the conversation key and the stored
    source: a UnicodeEncodeError traceback from the id hash, or a failed commit with a key given."""
    import os

    path = tmp_path / os.fsdecode(b"caf\xe9.jsonl")
    path.write_text(json.dumps({"speaker": "Ana", "text": "Hello."}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="the file name holds a byte that is no UTF-8 text"):
        load(path)
    (record,) = load(path, conversation_id="cafe")
    assert record.key == "cafe" and record.source.endswith("caf\\xe9.jsonl")
    record.source.encode("utf-8")  # storable
    with pytest.raises(InputError, match="conversation_id: not valid Unicode"):
        load(path, conversation_id="caf\udce9")


def test_a_zone_abbreviation_is_read_or_the_date_refused(tmp_path):
    """'Sat, 16 Mar 2024 19:30:00 PST' was stored as 19:30 UTC (dateutil dropped the zone it did not
    know, with a warning nobody saw): 8 hours off. The common abbreviations are read; others refuse."""
    from graphmem.loaders.dates import parse_datetime

    assert parse_datetime("Sat, 16 Mar 2024 19:30:00 PST").isoformat() == "2024-03-16T19:30:00-08:00"
    assert parse_datetime("2024-03-16 19:30 CEST").isoformat() == "2024-03-16T19:30:00+02:00"
    assert parse_datetime("2024-03-16 19:30 XYZ") is None
    path = tmp_path / "pst.jsonl"
    path.write_text(json.dumps({"speaker": "Ana", "text": "Dinner at 7:30.", "timestamp": "Sat, 16 Mar 2024 19:30:00 PST"}) + "\n")
    (record,) = load(path)
    assert record.sessions[0].turns[0].timestamp == datetime(2024, 3, 17, 3, 30)  # stored naive UTC
    path.write_text(json.dumps({"speaker": "Ana", "text": "Dinner.", "timestamp": "2024-03-16 19:30 XYZ"}) + "\n")
    with pytest.raises(InputError, match="not a date"):
        load(path)


def test_a_message_id_given_twice_in_one_session_is_refused(tmp_path):
    """Two messages of one session with one id were both stored, and a correction by that id then
    changed only one of them; ids that repeat across sessions (a source numbering per session) are kept."""
    path = tmp_path / "dup.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in ({"speaker": "A", "text": "one", "id": "m1"},
                                                           {"speaker": "B", "text": "two", "id": "m1"})))
    with pytest.raises(InputError, match=r"message id 'm1' is given twice \(messages 0 and 1\)"):
        load(path)
    path.write_text("".join(json.dumps(m) + "\n" for m in ({"speaker": "A", "text": "one", "id": "m1", "session": "1"},
                                                           {"speaker": "B", "text": "two", "id": "m1", "session": "2"})))
    assert [len(s.turns) for s in load(path)[0].sessions] == [1, 1]
