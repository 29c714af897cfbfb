"""graphmem.loaders.chat: the text and speaker of messages as chat APIs give them."""

from __future__ import annotations

import pytest

from graphmem.errors import InputError
from samples import AnthropicMessage, OpenAIMessage
from graphmem.loaders.chat import calls_a_tool, content_text, is_sdk_message, message_text, sdk_message, speaker_fields


def test_content_text_reads_strings_and_text_parts():
    assert content_text("  as is ", "c") == "  as is "
    assert content_text([{"type": "text", "text": "one"}, "two", {"text": "three"},
                         {"type": "output_text", "text": "four"}, {"type": "input_text", "text": "five"}], "c") == \
        "one\n\ntwo\n\nthree\n\nfour\n\nfive"
    # parts of other kinds, and blank text parts, carry nothing
    assert content_text([{"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "  "}], "c") is None
    assert content_text([], "c") is None
    assert content_text([{"type": "tool_result", "content": [{"type": "text", "text": "inner"}]}, "outer"], "c") == "outer"


@pytest.mark.parametrize("value, where", [
    (5, "m.content"), ({"type": "text", "text": "x"}, "m.content"), (b"bytes", "m.content"), (None, "m.content"),
    (["ok", 3], "m.content[1]"), ([{"type": "text", "text": 3}], "m.content[0].text"),
    ([{"type": "text"}], "m.content[0].text"),
])
def test_content_text_names_what_is_wrong(value, where):
    with pytest.raises(InputError) as caught:
        content_text(value, "m.content")
    assert str(caught.value).startswith(where + ":")


def test_message_text_says_where_the_text_is_or_that_there_is_none():
    assert message_text({"text": "hi", "content": "other"}, "m") == ("text", "hi")
    assert message_text({"text": None, "content": "  "}, "m") == ("content", "  ")  # blank: the caller refuses it
    assert message_text({"content": [{"type": "text", "text": "a"}, "b"]}, "m") == ("content", "a\n\nb")
    assert message_text({"role": "user"}, "m") == (None, "")  # missing: the caller names it
    for nothing in ({"content": None, "tool_calls": [{"id": "1"}]}, {"content": " ", "function_call": {"name": "f"}},
                    {"content": [{"type": "image_url", "image_url": {}}]}):
        assert message_text(nothing, "m") is None
    with pytest.raises(InputError, match=r"^m\.content\[0\]:"):
        message_text({"content": [7]}, "m")


def test_speaker_and_tool_calls():
    assert speaker_fields({"role": "user", "name": "maya"}) == ("speaker", "name")
    assert speaker_fields({"role": "assistant", "name": "helper"}) == ("speaker", "role")  # an assistant stays one
    assert speaker_fields({"role": "user"}) == ("speaker", "role")
    assert calls_a_tool({"tool_calls": [{"id": "1"}]}) and calls_a_tool({"function_call": {"name": "f"}})
    assert not calls_a_tool({"tool_calls": []}) and not calls_a_tool({"content": "x"})


def test_sdk_message_objects_keep_the_message_fields():
    reply = OpenAIMessage(content="Booked for 20:00.", annotations=[])
    assert is_sdk_message(reply) and not is_sdk_message({"content": "x"}) and not is_sdk_message("text")
    assert sdk_message(reply) == {"content": "Booked for 20:00.", "refusal": None, "role": "assistant",
                                  "function_call": None, "tool_calls": None}
    answer = AnthropicMessage(id="msg_01", content=[{"type": "text", "text": "Porto it is."}])
    assert sdk_message(answer, json=True) == {"id": "msg_01", "role": "assistant",
                                              "content": [{"type": "text", "text": "Porto it is."}]}
    assert sdk_message({"content": "a mapping is not an SDK object"}) is None
