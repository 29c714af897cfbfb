"""Splitting turns into event units: propositions kept, small talk dropped, times resolved."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from graphmem.extract.events import EventUnit, content_score, split_events
from graphmem.extract.nlp import LanguagePipeline

ANCHOR = datetime(2023, 5, 8, 13, 56)  # a Monday
SPEAKERS = ["Caroline", "Melanie", "Jon"]


@pytest.fixture(scope="module")
def pipeline() -> LanguagePipeline:
    return LanguagePipeline.load(None)


def units(pipeline: LanguagePipeline, text: str, **kwargs: object) -> list[EventUnit]:
    [analysis] = pipeline.analyse([text], speakers=SPEAKERS)
    return split_events(text, analysis, anchor=ANCHOR, **kwargs)


@pytest.mark.parametrize(
    "text",
    ["Haha, nice!", "Thanks!", "Wow, that's great!", "Hey Mel!", "Thanks, Caroline! Keep it up!",
     "Hey Mel! Good to see you! How have you been?", "", "   ", "🎉🎉",
     "Sounds great, Jon. Talk soon!"],
)
def test_filler_turns_yield_no_events(pipeline: LanguagePipeline, text: str) -> None:
    assert units(pipeline, text) == []


@pytest.mark.parametrize(("text", "expression", "day"), [
    ("I went to the dentist yesterday.", "yesterday", date(2023, 5, 7)),
    ("Got a new job today!", "today", date(2023, 5, 8)),
    ("I went camping last week!", "last week", date(2023, 5, 1)),
])
def test_a_short_message_that_says_when_something_happened_is_an_event(pipeline: LanguagePipeline, text: str,
                                                                         expression: str, day: date) -> None:
    """A live agent's short message: two content words and a time are a proposition worth its
    own event (its time is what a temporal question needs); a time with no content word of its
    own ("See you tomorrow!") is still small talk."""
    [unit] = units(pipeline, text)
    assert unit.text == text
    assert [t.expression for t in unit.times] == [expression] and unit.times[0].start == day


@pytest.mark.parametrize("text", ["See you tomorrow!", "Thanks, see you next week.", "It was great yesterday!",
                                  "See you tomorrow. Bye!"])
def test_a_time_alone_does_not_make_small_talk_an_event(pipeline: LanguagePipeline, text: str) -> None:
    assert units(pipeline, text) == []


def test_greeting_is_dropped_and_fact_kept_with_time(pipeline: LanguagePipeline) -> None:
    text = "Hey Mel! I went to a pottery class yesterday and made a bowl for my sister. Haha!"
    [unit] = units(pipeline, text)
    assert unit.text == "I went to a pottery class yesterday and made a bowl for my sister."
    assert text[unit.char_start:unit.char_end] == unit.text
    assert [t.expression for t in unit.times] == ["yesterday"]
    assert unit.times[0].start == date(2023, 5, 7)
    assert "pottery class" in [m.text for m in unit.mentions]
    assert "Mel" not in [m.text for m in unit.mentions]
    assert [m.text for m in unit.addressees] == ["Mel"]


def test_independent_clauses_are_split(pipeline: LanguagePipeline) -> None:
    text = ("I adopted a rescue dog named Oscar last month, and my kids started a soccer team "
            "at their school.")
    first, second = units(pipeline, text)
    assert first.text == "I adopted a rescue dog named Oscar last month"
    assert second.text == "my kids started a soccer team at their school."
    assert (first.index, second.index) == (0, 1)
    assert [t.expression for t in first.times] == ["last month"]
    assert (first.times[0].start, first.times[0].end) == (date(2023, 4, 1), date(2023, 4, 30))
    assert second.times == ()
    assert "Oscar" in [m.text for m in first.mentions]
    assert all(second.char_start <= m.char_start for m in second.mentions)


def test_short_clause_is_not_split_off(pipeline: LanguagePipeline) -> None:
    text = "I went to a LGBTQ support group yesterday and it was so powerful."
    [unit] = units(pipeline, text)
    assert unit.text == text


def test_relative_clause_is_not_split_off(pipeline: LanguagePipeline) -> None:
    text = ("I'm carving out time for running and my violin - which refreshes me and helps me "
            "stay present for my family!")
    [unit] = units(pipeline, text)
    assert unit.text == text


def test_short_fragment_with_a_name_attaches_to_its_neighbour(pipeline: LanguagePipeline) -> None:
    text = "I signed up for a pottery class with my sister. Oscar loved it!"
    [unit] = units(pipeline, text)
    assert unit.text == text
    assert "Oscar" in [m.text for m in unit.mentions]


def test_leading_fragment_attaches_to_the_next_event(pipeline: LanguagePipeline) -> None:
    text = "Thanks, Caroline! Paris with Jon! We visited the Louvre museum and ate croissants."
    [unit] = units(pipeline, text)
    assert unit.text == "Paris with Jon! We visited the Louvre museum and ate croissants."


def test_several_sentences_become_several_events(pipeline: LanguagePipeline) -> None:
    text = ("Wow, Caroline! I ran a charity race for mental health last Saturday. "
            "Next month my family is going camping in Oregon. So exciting!")
    first, second = units(pipeline, text)
    assert first.text.startswith("I ran a charity race")
    assert first.times[0].start == date(2023, 5, 6)
    assert second.text == "Next month my family is going camping in Oregon."
    assert (second.times[0].start, second.times[0].end) == (date(2023, 6, 1), date(2023, 6, 30))
    assert "Oregon" in [m.text for m in second.mentions]


def test_short_turn_that_names_something_is_kept(pipeline: LanguagePipeline) -> None:
    [unit] = units(pipeline, "I adopted Oscar!")
    assert unit.text == "I adopted Oscar!"


def test_min_content_tokens_controls_splitting(pipeline: LanguagePipeline) -> None:
    text = "I bought oil paint brushes at the art store. We painted a sunset landscape together."
    assert len(units(pipeline, text)) == 2
    assert len(units(pipeline, text, min_content_tokens=6)) == 1


def test_without_anchor_only_times_that_say_their_year_are_kept(pipeline: LanguagePipeline) -> None:
    """An undated turn's relative times cannot be resolved; one that says its year needs no anchor
    (an undated transcript's "My wedding was on 2022-06-18" carried no time)."""
    text = "I went hiking in the mountains yesterday with my brother."
    [analysis] = pipeline.analyse([text])
    [unit] = split_events(text, analysis)
    assert unit.times == ()
    assert any(m.label == "DATE" for m in unit.mentions)
    for text, start, end in (("I moved to Paris in 2019 with my sister.", date(2019, 1, 1), date(2019, 12, 31)),
                             ("I graduated from MIT on May 7, 2021 after four years.", date(2021, 5, 7), date(2021, 5, 7)),
                             ("My wedding in Rome was on 2022-06-18, a sunny day.", date(2022, 6, 18), date(2022, 6, 18))):
        [analysis] = pipeline.analyse([text])
        [unit] = split_events(text, analysis)
        assert [(r.start, r.end) for r in unit.times] == [(start, end)], text


def test_deterministic_and_checks_its_input(pipeline: LanguagePipeline) -> None:
    text = "José moved to São Paulo last year, and Zoë started a bakery with her cousin there."
    [analysis] = pipeline.analyse([text])
    assert split_events(text, analysis, anchor=ANCHOR) == split_events(text, analysis, anchor=ANCHOR)
    with pytest.raises(ValueError):
        split_events("another text", analysis)
    with pytest.raises(ValueError):
        split_events(text, analysis, min_content_tokens=0)


def test_content_score() -> None:
    assert content_score("Haha, nice! Thanks!") == 0
    assert content_score("pottery class") == 2
    assert content_score("I went there") == 0  # a light verb and function words


def test_a_time_expression_makes_a_short_sentence_an_event(pipeline: LanguagePipeline) -> None:
    text = "Remember when we volunteered together last year? It was such a fulfilling experience."
    [unit] = units(pipeline, text)
    assert unit.text == text
    assert [(t.start, t.end) for t in unit.times] == [(date(2022, 1, 1), date(2022, 12, 31))]
    assert units(pipeline, "Talk to you tomorrow!") == []


def test_code_blocks_inline_code_and_tables_never_become_events(pipeline: LanguagePipeline) -> None:
    text = ("Here is how to read the sales file in R and compute the weekly mean.\n"
            "```r\n# read in the data from the csv file for every store we have\n"
            "sales <- read.csv(\"Supermarketdata2.csv\")\nmean_sales <- mean(sales$Weekly_Sales)\n```\n"
            "| store | weekly sales in dollars | region of the store |\n|---|---|---|\n"
            "| 10 | 1200 dollars per week | north east region |\n"
            "Run `mean_sales <- mean(sales$Weekly_Sales) for the whole dataset` in the console.\n"
            "This prints the mean of the weekly sales for all stores except store ten.")
    found = units(pipeline, text)
    texts = [u.text for u in found]
    assert texts[0] == "Here is how to read the sales file in R and compute the weekly mean."
    assert texts[-1] == "This prints the mean of the weekly sales for all stores except store ten."
    assert not any("read.csv" in t or "|" in t or "#" in t or "`" in t for t in texts), texts


def test_no_event_holds_code_or_a_table_and_no_time_said_there_is_resolved(pipeline: LanguagePipeline) -> None:
    """A short sentence after a code block or a table joined the event before it, stretching it over
    the code, and "last Monday" written in the code (or "next Friday" in a table row, a date in a web
    address) became the event's time."""
    for text in ("I moved to Paris with my sister Ana.\n\n```\nmeeting = 'last Monday'\n```\nShe loves the city.",
                 "I booked flights to Rome.\n\n| Day | Plan |\n|---|---|\n| next Friday | Colosseum |\n\nThe Vatican too.",
                 "Ana said it.\n\n```\nmeeting = 'last Monday'\n```\nI moved to Paris with my sister Ana last spring."):
        found = units(pipeline, text)
        assert found and not any("```" in u.text or "|" in u.text or "Monday" in u.text for u in found), [u.text for u in found]
        assert not any(r.expression in ("last Monday", "next Friday") for u in found for r in u.times)
    [unit] = units(pipeline, "Download the installer from https://example.com/releases/2021-03-04/app.zip and run it tonight.")
    assert [r.expression for r in unit.times] == ["tonight"]


def test_no_time_is_read_from_a_file_path(pipeline: LanguagePipeline) -> None:
    """A folder named "June 2020" in a Windows path (or a dated folder of a Unix path) dated the turn."""
    for text in ("I put the photos in C:\\Users\\ana\\Pictures\\June 2020\\beach.jpg and sorted them tonight.",
                 "They are in /home/ana/photos/2020-06-14/ and I sorted them tonight.",
                 "Copy \\\\nas\\backup\\March 3 2021\\ to the disk, I sorted it tonight."):
        [unit] = units(pipeline, text)
        assert [r.expression for r in unit.times] == ["tonight"], (text, unit.times)
    # a path masks itself only: not the words up to a later backslash on its line
    for text, said in (("I saved it in C:\\temp and on June 14, 2020 Melanie called me about it \\o/", "June 14, 2020"),
                       ("I moved C:\\old\\a.txt on May 3, 2021 to D:\\new\\ for Caroline.", "May 3, 2021")):
        [unit] = units(pipeline, text)
        assert [r.expression for r in unit.times] == [said], (text, unit.times)
    [unit] = units(pipeline, "On 6/14/2020 I sorted the photos, and in June 2020 I printed them.")
    assert {r.expression for r in unit.times} >= {"6/14/2020", "June 2020"}, unit.times


def test_max_units_keeps_the_units_that_say_most_in_text_order(pipeline: LanguagePipeline) -> None:
    text = ("Ok. I adopted a rescue dog named Oscar from the Portland animal shelter last month. "
            "It was fine. My kids played soccer. "
            "We had cake. Caroline painted a large sunset over the lake with acrylic paints on canvas.")
    every = units(pipeline, text)
    two = units(pipeline, text, max_units=2)
    assert len(every) > 2
    assert [u.text for u in two] == [
        "I adopted a rescue dog named Oscar from the Portland animal shelter last month.",
        "Caroline painted a large sunset over the lake with acrylic paints on canvas."]
    assert [u.index for u in two] == [0, 1]
    assert units(pipeline, text, max_units=len(every)) == every
    with pytest.raises(ValueError):
        units(pipeline, text, max_units=0)


def test_a_chinese_or_japanese_message_gives_events(pipeline: LanguagePipeline) -> None:
    """A CJK clause was one word to the content score (2 against a threshold of 3): such messages had
    no event at all, while Arabic, Cyrillic or Hindi ones had theirs."""
    for text in ("我昨天去了北京看长城，天气非常好。", "東京で新しいカメラを買いました。"):
        found = units(pipeline, text)
        assert [u.text for u in found] == [text], (text, [u.text for u in found])
    for reply in ("好的。", "ありがとうございます！", "はい、そうですね。", "おはようございます！", "哈哈哈哈哈哈", "ハハハハハハ",
                  "好的好的，没问题！", "감사합니다!"):
        assert units(pipeline, reply) == [], reply  # thanks, greetings and laughter say nothing, in any script


@pytest.mark.parametrize("joint", ["; ", ", and ", " - "])
def test_a_long_sentence_weighs_each_word_once(pipeline: LanguagePipeline, monkeypatch, joint: str) -> None:
    """Before, every clause joint weighed the whole text on its left (or right) again, so a
    sentence of n clauses cost n squared: a 20,000-character line of clauses or of minified
    CSS took 0.5 to 2 s to split. Each clause is still an event of its own, as a short
    sentence of three of them is."""
    from graphmem.extract import events

    clauses = ["I bought red apples", "we cooked fresh pasta at home", "Maria painted the fence", "the kids played football"]
    text = joint.join(clauses * 100) + "."
    [analysis] = pipeline.analyse([text], speakers=SPEAKERS)
    weighed = 0
    word_points = events._word_points

    def counted(word: str) -> tuple[float, int]:
        nonlocal weighed
        weighed += 1
        return word_points(word)
    monkeypatch.setattr(events, "_word_points", counted)
    split = split_events(text, analysis, anchor=ANCHOR)
    words = len(text.split())
    assert weighed <= 3 * words, (weighed, words)
    assert [u.text.rstrip(".") for u in split] == clauses * 100
    assert [u.text for u in units(pipeline, joint.join(clauses) + ".")] == [*clauses[:3], clauses[3] + "."]
