"""Long memories shown around the query's words: ``graphmem.hits.excerpt``, ``Memory.context``
(``max_chars``), the CLI's search table (``--full``) and the MCP ``search_memory`` lines.
The store and the embedding model are the real ones."""

from __future__ import annotations

import unicodedata

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.errors import InputError
from graphmem.hits import CONTEXT_CHARS, ELLIPSIS, Hit, context_text, excerpt
from graphmem.memory import Memory
from graphmem.server.mcp import format_hit

runner = CliRunner()

FILLER = [f"Step {i}: stir the sauce gently and keep the heat low for a while." for i in range(60)]
KEY = "By the way, my sister Ana moved to Lisbon in March."
ESSAY = " ".join(FILLER[:40] + [KEY] + FILLER[40:])  # about 4,000 characters, the key sentence two thirds in


def _parts(shown: str) -> list[str]:
    """The runs of the original text in ``shown`` (between the cut marks)."""
    return [p.strip() for p in shown.split(ELLIPSIS) if p.strip()]


def test_a_short_text_is_whole():
    assert excerpt("My sister Ana moved to Lisbon.", "Ana", 100) == "My sister Ana moved to Lisbon."


def test_the_sentence_sharing_the_query_words_is_kept_with_neighbours():
    shown = excerpt(ESSAY, "Where did Ana move?", 300)
    assert KEY in shown
    assert shown.startswith(ELLIPSIS) and shown.endswith(ELLIPSIS)
    assert all(part in ESSAY for part in _parts(shown))
    assert 300 - 70 < len(shown) - 4 <= 300  # neighbours (about 66 characters each) fill what is left
    before, after = shown.split(KEY)
    assert "Step 39" in before and "Step 40" in after


def test_a_rarer_shared_word_counts_more():
    text = " ".join(["The sauce needs salt."] * 30 + ["The sauce needs saffron from Lisbon."] + ["The sauce needs salt."] * 30)
    assert "saffron" in excerpt(text, "sauce saffron", 60)


def test_without_a_shared_word_the_beginning_is_kept():
    shown = excerpt(ESSAY, "quantum chromodynamics", 200)
    assert shown.startswith("Step 0:") and shown.endswith(ELLIPSIS) and not shown.startswith(ELLIPSIS)


def test_one_long_sentence_is_cut_around_its_first_shared_word():
    text = "word " * 3000 + "my sister lives in Lisbon now " + "word " * 3000
    shown = excerpt(text, "Lisbon", 100)
    assert "Lisbon" in shown and len(shown) <= 104
    assert shown.startswith(ELLIPSIS) and shown.endswith(ELLIPSIS)


def test_one_long_sentence_tokenises_each_distinct_word_once(monkeypatch):
    """Before, finding the first shared word of a long sentence tokenised its words one call
    each: a pasted megabyte of repeated words cost 316,000 calls, 1.6 s of a 2.7 s context().
    The cut is the same."""
    from graphmem.retrieve.lexical import Tokenizer

    text = "the drum and the bass and the fiddle played on " * 2000 + "then the violin recital began"
    expected = excerpt(text, "violin recital", 80)
    calls = 0
    tokenize = Tokenizer.__call__

    def counted(self, words, drop=()):
        nonlocal calls
        calls += 1
        return tokenize(self, words, drop)
    monkeypatch.setattr(Tokenizer, "__call__", counted)
    assert excerpt(text, "violin recital", 80) == expected
    assert expected.endswith("then the violin recital began") and expected.startswith(ELLIPSIS)
    assert calls < 100, calls


def test_a_chinese_text_is_cut_around_the_sentence_sharing_the_query_words():
    """A long Chinese message showed its beginning: its sentences end in 。 with no space, and a
    clause was one word, so no query word was ever found in it."""
    text = "我们今天去公园散步了。" * 40 + "我妹妹在上海学习钢琴。" + "天气很好，我们很开心。" * 40
    shown = excerpt(text, "钢琴", 60)
    assert "我妹妹在上海学习钢琴。" in shown and shown.startswith(ELLIPSIS) and len(shown) <= 64, shown
    assert all(part in text for part in _parts(shown))
    sentences = {"我们今天去公园散步了。", "我妹妹在上海学习钢琴。", "天气很好，我们很开心。"}
    assert all(set(re.findall(r"[^。]+。", part)) <= sentences and part.endswith("。") for part in _parts(shown)), shown  # whole sentences


def test_one_long_chinese_sentence_is_cut_around_its_first_shared_word():
    """A CJK run is one word to ``\\w+``: a 400-character sentence was shown from its start, without the word."""
    text = "我们今天去公园散步了然后" * 17 + "我妹妹在上海学习钢琴" + "天气很好我们很开心然后" * 17 + "。"
    shown = excerpt(text, "钢琴", 60)
    assert "钢琴" in shown and shown.startswith(ELLIPSIS) and len(shown) <= 64, shown


def test_code_and_markdown_are_cut_at_lines():
    text = "\n".join(["```python", *[f"x{i} = {i}" for i in range(200)], "```", "| name | city |", "|---|---|",
                      "| Ana | Lisbon |", *[f"- item {i}" for i in range(100)]])
    shown = excerpt(text, "Which city is Ana in?", 120)
    assert "| Ana | Lisbon |" in shown
    assert all(line in text.splitlines() for part in _parts(shown) for line in part.splitlines())


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        excerpt(ESSAY, "Ana", 0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(st.characters(blacklist_categories=["Cs"]), max_size=3000)
       | st.lists(st.sampled_from(["Ana", "Lisbon", "moved", ". ", "\n", "```", "| a |", "  ", "?", "é", "😀", "word"]),
                  max_size=600).map("".join),
       query=st.text(max_size=40) | st.sampled_from(["Where did Ana move?", "Lisbon", "?!... ---", ""]),
       limit=st.integers(1, 500))
def test_any_text_gives_at_most_limit_characters_of_itself(text, query, limit):
    shown = excerpt(text, query, limit)
    if len(text) <= limit:
        assert shown == text
    else:
        body = shown.removeprefix(ELLIPSIS + " ").removesuffix(" " + ELLIPSIS).removesuffix(ELLIPSIS)
        assert len(body) <= limit
        assert body in text


def test_a_cut_never_splits_a_character_cluster():
    """A long sentence without spaces was cut at a code point: half a flag (every flag after it then
    paired wrongly, shown as "RF"), a consonant without its vowel sign."""
    flags = "\U0001F1EB\U0001F1F7"
    shown = excerpt(flags * 100 + "family" + flags * 100, "family", 21)
    body = shown.removeprefix(ELLIPSIS + " ").removesuffix(" " + ELLIPSIS)
    assert "family" in body and body.replace("family", "") == flags * (len(body.replace("family", "")) // 2)
    hindi = "नमस्ते" * 30 + "परिवार" + "नमस्ते" * 30
    body = excerpt(hindi, "परिवार", 20).removeprefix(ELLIPSIS + " ").removesuffix(" " + ELLIPSIS)
    assert unicodedata.category(body[0]) not in ("Mn", "Mc") and unicodedata.category(hindi[hindi.index(body) + len(body)]) not in ("Mn", "Mc")
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
    body = excerpt(family * 40 + "home" + family * 40, "home", 23).removeprefix(ELLIPSIS + " ").removesuffix(" " + ELLIPSIS)
    assert body.startswith("\U0001F468") and body.endswith("\U0001F467")


def test_context_text_cuts_each_memory_and_none_keeps_it_whole():
    hit = Hit(node_id="turn:1", unit="turn", text=ESSAY, score=1.0, strategy="auto", speaker="user")
    cut = context_text("Where did Ana move?", [hit])
    assert KEY in cut and len(cut.splitlines()[-1].strip()) <= CONTEXT_CHARS + 4
    whole = context_text("Where did Ana move?", [hit], None)
    assert " ".join(ESSAY.split()) in whole
    for bad in (0, -5, 2.5, True):
        with pytest.raises(InputError, match="max_chars"):
            context_text("q", [hit], bad)


def test_mcp_lines_show_the_part_around_the_query():
    hit = Hit(node_id="turn:1", unit="turn", text=ESSAY, score=1.0, strategy="auto", speaker="user")
    line = format_hit(1, hit, "Where did Ana move?")
    assert KEY in line and line.endswith("(score 1.000 · turn:1)")
    assert len(line) < 400 + 100
    assert "Step 0:" in format_hit(1, hit)  # no query: the beginning


@pytest.fixture(scope="module")
def essay_store(tmp_path_factory):
    store = str(tmp_path_factory.mktemp("excerpts") / "store")
    with Memory.open(store, "excerpts") as memory:
        memory.add([{"speaker": "user", "text": "Can you help me with a recipe?"},
                    {"speaker": "assistant", "text": "Sure, here it is."},
                    {"speaker": "user", "text": ESSAY}], conversation="c1")
        yield memory, store


def test_memory_context_gives_the_part_of_a_long_memory_around_the_query(essay_store):
    memory, _ = essay_store
    block = memory.context("Where did my sister Ana move?", k=1)
    assert KEY in block and "Step 0:" not in block
    assert KEY in memory.context("Where did my sister Ana move?", k=1, max_chars=60)
    assert " ".join(ESSAY.split()) in memory.context("Where did my sister Ana move?", k=1, max_chars=None)
    with pytest.raises(InputError, match="max_chars"):
        memory.context("Ana", max_chars=0)


def test_cli_search_shows_long_texts_around_the_query_and_full_shows_them_whole(essay_store):
    _, store = essay_store
    args = ["search", "Where did my sister Ana move?", "--store", store, "-n", "excerpts", "-k", "1"]
    result = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    flat = re.sub(r"\s+", " ", result.stdout)
    assert "Lisbon" in flat and "Step 0:" not in flat and "Step 59" not in flat
    assert "--full shows them whole" in result.stderr
    full = runner.invoke(app, [*args, "--full"], env={"COLUMNS": "400"})
    assert full.exit_code == 0, full.output
    flat = re.sub(r"\s+", " ", full.stdout)
    assert "Step 0:" in flat and "Step 59" in flat and "--full" not in full.stderr
    context = runner.invoke(app, [*args, "--context"], env={"COLUMNS": "400"})
    assert context.exit_code == 0 and KEY in context.stdout and "Step 0:" not in context.stdout


def test_a_long_sentence_is_cut_around_a_word_whose_stem_is_no_prefix_of_it():
    """The cut looked for the stem's first letters in the text ("hike" in "...hiking..."; "studi",
    "happili"), found none, and kept the sentence's beginning, without the word."""
    sentence = ("and then we talked about the weather and the traffic " * 20 + "and I went hiking at Mount Rainier "
                + "and later we ate pasta and watched a film " * 20)
    cut = excerpt(sentence, "Where did I go hiking?", 200)
    assert "hiking at Mount Rainier" in cut and len(cut) <= 204, cut
    assert "studied" in excerpt("we walked " * 40 + "and she studied maths " + "we talked " * 40, "who studies maths", 100)


def test_context_keeps_a_memorys_lines():
    """Every text was joined into one line: code, lists and tables in a context block (whole with
    max_chars=None) came out as one run of words (`def feed(starter): if starter.hungry: return ...`)."""
    code = "Here is the helper:\n```python\ndef feed(starter):\n    if starter.hungry:\n        return 'flour'\n```\n| day | grams |\n|---|---|\n| Mon | 50 |"
    hit = Hit(node_id="turn:1", unit="turn", text=code, score=1.0, strategy="auto", speaker="assistant")
    shown = context_text("feed the starter", [hit], None)
    assert shown.splitlines()[-9:] == ["    Here is the helper:", "    ```python", "    def feed(starter):",
                                       "        if starter.hungry:", "            return 'flour'", "    ```",
                                       "    | day | grams |", "    |---|---|", "    | Mon | 50 |"], shown
