"""Time expressions resolved against a fixed anchor (Monday 8 May 2023, 13:56)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings, strategies as st

from graphmem.extract.activities import states_activity
from graphmem.extract.temporal import (
    TimeRef,
    find_time_expressions,
    find_time_spans,
    parse_session_datetime,
    states_age,
    states_duration,
    states_frequency,
)

ANCHOR = datetime(2023, 5, 8, 13, 56)  # a Monday


def resolve(text: str, anchor: datetime | date = ANCHOR) -> list[tuple[str, date, date]]:
    return [(r.expression, r.start, r.end) for r in find_time_expressions(text, anchor)]


def only(text: str, anchor: datetime | date = ANCHOR) -> tuple[date, date]:
    refs = find_time_expressions(text, anchor)
    assert len(refs) == 1, refs
    return refs[0].start, refs[0].end


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("I went there yesterday.", date(2023, 5, 7), date(2023, 5, 7)),
        ("We talked today.", date(2023, 5, 8), date(2023, 5, 8)),
        ("Let's meet tomorrow!", date(2023, 5, 9), date(2023, 5, 9)),
        ("I baked this morning.", date(2023, 5, 8), date(2023, 5, 8)),
        ("The show was last night.", date(2023, 5, 7), date(2023, 5, 7)),
        ("It rained the day before yesterday.", date(2023, 5, 6), date(2023, 5, 6)),
        ("I ran a charity race last Saturday.", date(2023, 5, 6), date(2023, 5, 6)),
        ("I signed up two weeks ago.", date(2023, 4, 24), date(2023, 4, 30)),
        ("We moved three days ago.", date(2023, 5, 5), date(2023, 5, 5)),
        ("That was a few days ago.", date(2023, 5, 4), date(2023, 5, 6)),
        ("We're adopting next month.", date(2023, 6, 1), date(2023, 6, 30)),
        ("It was a hard time last year.", date(2022, 1, 1), date(2022, 12, 31)),
        ("I was busy last week.", date(2023, 5, 1), date(2023, 5, 7)),
        ("We camped last weekend.", date(2023, 5, 6), date(2023, 5, 7)),
        ("What about this weekend?", date(2023, 5, 13), date(2023, 5, 14)),
        ("See you next week.", date(2023, 5, 15), date(2023, 5, 21)),
        ("We quit last month.", date(2023, 4, 1), date(2023, 4, 30)),
        ("We went camping last summer.", date(2022, 6, 1), date(2022, 8, 31)),
        ("It snowed last winter.", date(2022, 12, 1), date(2023, 2, 28)),
        ("We planted tomatoes in the Spring.", date(2023, 3, 1), date(2023, 5, 31)),
        ("in the summer Sam visited us.", date(2022, 6, 1), date(2022, 8, 31)),  # only a capitalised season opens a name
        ("The party is in 3 days.", date(2023, 5, 11), date(2023, 5, 11)),
        ("Exams start in two weeks.", date(2023, 5, 22), date(2023, 5, 28)),
        ("We met on May 7, 2023 there.", date(2023, 5, 7), date(2023, 5, 7)),
        ("We met on 7 May 2023 there.", date(2023, 5, 7), date(2023, 5, 7)),
        ("It opened on 2023-04-30.", date(2023, 4, 30), date(2023, 4, 30)),
        ("I moved here in 2022.", date(2022, 1, 1), date(2022, 12, 31)),
        ("We met in June.", date(2022, 6, 1), date(2022, 6, 30)),
        ("I'll visit them in June.", date(2023, 6, 1), date(2023, 6, 30)),
        ("Back in early March things were calm.", date(2023, 3, 1), date(2023, 3, 10)),
        ("I've painted for the past three years.", date(2020, 5, 8), date(2023, 5, 8)),
        ("Next Friday is the recital.", date(2023, 5, 12), date(2023, 5, 12)),
        ("LAST SATURDAY was fun.", date(2023, 5, 6), date(2023, 5, 6)),
    ],
)
def test_resolves_against_anchor(text: str, start: date, end: date) -> None:
    assert only(text) == (start, end)


def test_plain_weekday_is_past_unless_future_is_obvious() -> None:
    assert only("On Saturday I went hiking.") == (date(2023, 5, 6), date(2023, 5, 6))
    assert only("I'm going to a concert on Friday!") == (date(2023, 5, 12), date(2023, 5, 12))
    assert only("I was going to call you on Friday.") == (date(2023, 5, 5), date(2023, 5, 5))


def test_a_scheduled_date_without_a_year_is_the_next_one() -> None:
    anchor = datetime(2024, 3, 20)
    assert only("Good idea. The race is on April 14th, so I still have time.", anchor) == (date(2024, 4, 14), date(2024, 4, 14))
    assert only("I'm off until June.", anchor)[0] == date(2024, 6, 1)
    assert only("See you on May 7.", anchor)[0] == date(2024, 5, 7)
    assert only("The essay is due by February 20th.", anchor)[0] == date(2025, 2, 20)
    # told in the past tense, or with no tense at all, it is the last one
    assert only("The race was on April 14th.", anchor)[0] == date(2023, 4, 14)
    assert only("I was in Paris in June.", anchor)[0] == date(2023, 6, 1)
    assert only("I ran on April 14th.", anchor)[0] == date(2023, 4, 14)
    # the noun "run" and what "was due" schedule nothing: both were the next March 3, a year on
    assert only("I went for a run on March 3 and twisted my ankle.", anchor)[0] == date(2024, 3, 3)
    assert only("It was due by March 3.", anchor)[0] == date(2024, 3, 3)


def test_a_plan_in_the_present_progressive_or_scheduled_is_the_next_day() -> None:
    """"I'm flying to Lisbon on Friday" said on a Wednesday was the Friday before, as was "My flight is
    on Friday" (the scheduled present counted for months, not weekdays); "I'm moving on April 1st" was
    last year's April 1st."""
    anchor = datetime(2024, 3, 6, 12)  # a Wednesday
    assert only("I'm flying to Lisbon on Friday.", anchor)[0] == date(2024, 3, 8)
    assert only("My flight is on Friday.", anchor)[0] == date(2024, 3, 8)
    assert only("We're having a party on Saturday!", anchor)[0] == date(2024, 3, 9)
    assert only("I'm moving on April 1st.", anchor)[0] == date(2024, 4, 1)
    assert only("I'm visiting Porto in May.", anchor)[0] == date(2024, 5, 1)
    # told in the past, or a present that plans nothing, it is the last one
    assert only("I was flying to Lisbon on Friday.", anchor)[0] == date(2024, 3, 1)
    assert only("I'm thinking about what happened on Friday.", anchor)[0] == date(2024, 3, 1)


def test_a_preposition_before_a_month_keeps_the_day_or_year_after_it() -> None:
    """"since February 14" was the whole of February and "from January 2022" was January of the
    anchor's year: the preposition and the month alone were the longer match, the day or year lost."""
    anchor = datetime(2024, 3, 20)
    assert only("I've been vegetarian since February 14.", anchor) == (date(2024, 2, 14), date(2024, 2, 14))
    assert only("I worked at Acme from January 2022.", anchor) == (date(2022, 1, 1), date(2022, 1, 31))
    assert only("from March, 2021 on", anchor) == (date(2021, 3, 1), date(2021, 3, 31))
    assert only("In March I went skiing.", anchor) == (date(2024, 3, 1), date(2024, 3, 31))  # a month alone stays one


def test_offsets_and_expression_text() -> None:
    text = "Yesterday I met Mel; last Saturday we ran, and two weeks ago we hiked."
    refs = find_time_expressions(text, ANCHOR)
    assert [r.expression for r in refs] == ["Yesterday", "last Saturday", "two weeks ago"]
    for ref in refs:
        assert text[ref.char_start:ref.char_end] == ref.expression
    assert [tuple(s) for s in find_time_spans(text)] == [(r.char_start, r.char_end) for r in refs]


def test_leading_preposition_is_not_part_of_the_expression_but_in_n_days_is() -> None:
    refs = find_time_expressions("We met in June and leave in 3 days.", ANCHOR)
    assert [r.expression for r in refs] == ["June", "in 3 days"]


@pytest.mark.parametrize(
    "text",
    [
        "I may go later.",
        "That was the last time I saw it.",
        "Next time, bring snacks!",
        "The sun is out and I sat down.",
        "Saturdays are for pottery.",
        "lastweek and yesterdays are not words.",
        "I have 2000 photos and 3 kids.",
        "I sold cookies in the Spring Fling Market.",  # a capitalised season opening a name
        "We watched it during the Winter Olympics.",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert find_time_expressions(text, ANCHOR) == []


@pytest.mark.parametrize(("text", "day"), [
    ("I bought it on 14/3/2023.", date(2023, 3, 14)),  # day first: 14 is no month
    ("I bought it on 3/14/2023.", date(2023, 3, 14)),  # US
    ("On 10/12/2023 we met.", date(2023, 10, 12)),  # either way: US, as before
    ("We met on 12.03.2024 at noon.", date(2024, 3, 12)),  # dotted: day first, as dates.py reads them
    ("I stocked up at Sephora on the 19th, and I love it.", date(2023, 5, 19)),  # said 2023-05-24: this month's
    ("On the 28th I went hiking.", date(2023, 4, 28)),  # after the anchor's day: last month's
    ("I'll see her on the 2nd.", date(2023, 6, 2)),  # future: the next 2nd
    ("The party was on the 31st!", date(2023, 3, 31)),  # April has no 31st
])
def test_numeric_dates_and_a_day_of_the_month_alone(text: str, day: date) -> None:
    """"14/3/2023" and "12.03.2024" were no time, nor "on the 19th" (a LongMemEval user's purchase)."""
    [ref] = find_time_expressions(text, date(2023, 5, 24))
    assert (ref.start, ref.end) == (day, day)


@pytest.mark.parametrize(("text", "expression", "start", "end"), [
    ("Let's meet a week from Friday.", "a week from Friday", date(2023, 5, 19), date(2023, 5, 19)),
    ("We fly two weeks from Monday.", "two weeks from Monday", date(2023, 5, 29), date(2023, 5, 29)),
    ("The review is a week from today.", "a week from today", date(2023, 5, 17), date(2023, 5, 17)),
    ("It starts three days from tomorrow.", "three days from tomorrow", date(2023, 5, 14), date(2023, 5, 14)),
    ("The party is the Friday after next.", "the Friday after next", date(2023, 5, 19), date(2023, 5, 19)),
    ("Rent is due two months from tomorrow.", "two months from tomorrow", date(2023, 7, 1), date(2023, 7, 31)),
    # the weekday counted from may say which one, as it does alone ("last Friday": May 5; "this Friday": May 12)
    ("The results come a week from last Friday.", "a week from last Friday", date(2023, 5, 12), date(2023, 5, 12)),
    ("We fly a week from this Friday.", "a week from this Friday", date(2023, 5, 19), date(2023, 5, 19)),
    ("It opens two days from this coming Saturday.", "two days from this coming Saturday", date(2023, 5, 15),
     date(2023, 5, 15)),
])
def test_a_day_counted_from_another_day(text: str, expression: str, start: date, end: date) -> None:
    """"a week from Friday" was last Friday (said on a Wednesday); "a week from today" was today."""
    [ref] = find_time_expressions(text, date(2023, 5, 10))
    assert (ref.expression, ref.start, ref.end) == (expression, start, end)


@pytest.mark.parametrize("text", ["I live on the 14th floor.", "It worked on the 3rd try.", "on 31.02.2024",
                                  "Install version 1.2.2023.4 please.", "We live on the 3rd and 4th floors.",
                                  "Rooms on the 2nd, 3rd and 5th floors.", "She was on the 12th in line.",
                                  "Install Version 3.10.2019 now.", "Get v3.10.2019 here.", "Build 3.10.2019 fixed it."])
def test_ordinals_of_nouns_and_impossible_numeric_dates_are_no_time(text: str) -> None:
    assert find_time_expressions(text, ANCHOR) == []


def test_single_day_flag_and_date_anchor() -> None:
    [ref] = find_time_expressions("see you tomorrow", date(2023, 12, 31))
    assert isinstance(ref, TimeRef)
    assert ref.is_day and ref.start == date(2024, 1, 1)
    [week] = find_time_expressions("last week", date(2024, 1, 3))
    assert (week.start, week.end) == (date(2023, 12, 25), date(2023, 12, 31))
    assert not week.is_day


def test_year_boundaries() -> None:
    january = datetime(2023, 1, 10)
    assert only("last month", january) == (date(2022, 12, 1), date(2022, 12, 31))
    assert only("We met in December.", january) == (date(2022, 12, 1), date(2022, 12, 31))
    assert only("this winter", january) == (date(2022, 12, 1), date(2023, 2, 28))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56)),
        ("10:37 am on 27 June, 2023", datetime(2023, 6, 27, 10, 37)),
        ("12:48 am on 1 February, 2023", datetime(2023, 2, 1, 0, 48)),
        ("12:09 pm on 13 September, 2023", datetime(2023, 9, 13, 12, 9)),
        ("2023/05/20 (Sat) 02:21", datetime(2023, 5, 20, 2, 21)),
        ("2023-05-08T13:56:00", datetime(2023, 5, 8, 13, 56)),
        ("2023-05-08T13:56:00+00:00", datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("2023-05-08", datetime(2023, 5, 8)),
        ("May 8, 2023 1:56 PM", datetime(2023, 5, 8, 13, 56)),
    ],
)
def test_parse_session_datetime(text: str, expected: datetime) -> None:
    assert parse_session_datetime(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "hello", "session one", "1:56 pm on 31 February, 2023"])
def test_parse_session_datetime_rejects_non_dates(text: str) -> None:
    assert parse_session_datetime(text) is None


@pytest.mark.parametrize(("states", "text", "expected"), [
    (states_duration, "I've known these friends for 4 years, since I moved from my home country.", True),
    (states_duration, "It took me five hours to put the bookshelf together.", True),
    (states_duration, "We've been married a couple of years now.", True),
    (states_duration, "Seven years now, and I still love it.", True),
    (states_duration, "Since I was 17 I've painted every week.", True),
    (states_duration, "We did a two-week road trip.", True),
    (states_duration, "I have painted since 2016.", True),
    (states_duration, "Since you asked, the painting is of a sunrise.", False),
    (states_duration, "I went to the support group yesterday.", False),
    (states_duration, "The meeting is at 5 pm on Monday.", False),
    (states_age, "My grandma is 75 and my grandpa is 78, so we plan trips carefully.", True),
    (states_age, "By the way, I just turned 32 on February 12th.", True),
    (states_age, "Any ideas for a 5-year-old's birthday?", True),
    (states_age, "I'm 43 and not the smartest with computers.", True),
    (states_age, "My mom is 55.", True),
    (states_age, "There were 20 people at the party.", False),
    (states_age, "The total is 75.50 after tax.", False),
    (states_age, "Chapter 12 is 30 pages long.", False),
    (states_age, "I turned the page.", False),
    (states_frequency, "Thanks, Maria! Three times a week; it keeps us on track.", True),
    (states_frequency, "I have a therapy session with Dr. Smith - it's every two weeks.", True),
    (states_frequency, "We go a few times a week.", True),
    (states_frequency, "I see them at least once a week.", True),
    (states_frequency, "We post a weekly newsletter.", True),
    (states_frequency, "We hike on weekends.", True),
    (states_frequency, "I went to the beach last week.", False),
    (states_frequency, "Every one of them came.", False),
    (states_activity, "We went camping with the kids two weekends ago.", True),
    (states_activity, "I just signed up for a pottery class!", True),
    (states_activity, "Been Running longer since our last chat.", True),
    (states_activity, "I love playing the   guitar at night.", True),
    (states_activity, "The meeting ran late and I missed the bus.", False),
    (states_activity, "Our swimmingpool is closed.", False),  # whole words only
])
def test_states_a_kind_of_answer(states, text: str, expected: bool) -> None:
    """Spans of time ("how long"), ages ("how old"), frequencies ("how often") and pastimes ("what
    activities") found in text."""
    assert states(text) is expected


@pytest.mark.parametrize(
    ("text", "expression", "start", "end"),
    [
        ("We went camping two weekends ago.", "two weekends ago", date(2023, 4, 29), date(2023, 4, 30)),
        ("I shopped there three weekends ago.", "three weekends ago", date(2023, 4, 22), date(2023, 4, 23)),
        ("It was a few weekends ago.", "a few weekends ago", date(2023, 4, 15), date(2023, 4, 30)),
        ("That was the weekend before last.", "the weekend before last", date(2023, 4, 29), date(2023, 4, 30)),
        ("The week before last was busy.", "The week before last", date(2023, 4, 24), date(2023, 4, 30)),
        ("We hiked on the Friday before last.", "the Friday before last", date(2023, 4, 28), date(2023, 4, 28)),
        ("I met her a fortnight ago.", "a fortnight ago", date(2023, 4, 24), date(2023, 4, 30)),
        ("We met couple weeks ago.", "couple weeks ago", date(2023, 4, 24), date(2023, 4, 30)),
        ("It rained all of the past fortnight.", "the past fortnight", date(2023, 4, 24), date(2023, 5, 8)),
        ("On Christmas Eve we sang.", "Christmas Eve", date(2022, 12, 24), date(2022, 12, 24)),
        ("I got a bike for Christmas.", "Christmas", date(2022, 12, 25), date(2022, 12, 25)),
        ("I will see you at Christmas.", "Christmas", date(2023, 12, 25), date(2023, 12, 25)),
        ("Last Thanksgiving was loud.", "Last Thanksgiving", date(2022, 11, 24), date(2022, 11, 24)),
        ("We hunted eggs on Easter Sunday.", "Easter Sunday", date(2023, 4, 9), date(2023, 4, 9)),
        ("We called her on Mother's Day.", "Mother's Day", date(2022, 5, 8), date(2022, 5, 8)),
        ("Dinner for Valentine\u2019s Day was great.", "Valentine\u2019s Day", date(2023, 2, 14), date(2023, 2, 14)),
        ("Fireworks since the Fourth of July.", "the Fourth of July", date(2022, 7, 4), date(2022, 7, 4)),
        ("Next Halloween I'll dress up.", "Next Halloween", date(2023, 10, 31), date(2023, 10, 31)),
        ("I started at the start of the year.", "the start of the year", date(2023, 1, 1), date(2023, 4, 30)),
        ("It is due by the end of the month.", "the end of the month", date(2023, 5, 22), date(2023, 5, 31)),
        ("I quit at the end of last year.", "the end of last year", date(2022, 9, 1), date(2022, 12, 31)),
        ("We fly at the beginning of next week.", "the beginning of next week", date(2023, 5, 15), date(2023, 5, 16)),
    ],
)
def test_weekends_back_fortnights_holidays_and_parts_of_a_period(text, expression, start, end):
    assert resolve(text) == [(expression, start, end)]


@pytest.mark.parametrize("text", ["I bought Christmas presents.", "Thanksgiving dinner was huge.",
                                  "My Halloween costume is a cat.", "Easter eggs are fun."])
def test_a_bare_holiday_word_is_no_time(text):
    assert resolve(text) == []


def test_holidays_fall_on_their_dates_every_year():
    from graphmem.extract.temporal import _HOLIDAYS

    easter = {2019: date(2019, 4, 21), 2022: date(2022, 4, 17), 2023: date(2023, 4, 9), 2024: date(2024, 3, 31),
              2025: date(2025, 4, 20)}
    for year, day in easter.items():
        assert _HOLIDAYS["easter"](year) == day
    assert _HOLIDAYS["thanksgiving"](2023) == date(2023, 11, 23) and _HOLIDAYS["thanksgiving"](2024) == date(2024, 11, 28)
    assert _HOLIDAYS["memorial"](2023) == date(2023, 5, 29) and _HOLIDAYS["labor"](2023) == date(2023, 9, 4)
    assert _HOLIDAYS["father's"](2023) == date(2023, 6, 18) and _HOLIDAYS["mother's"](2024) == date(2024, 5, 12)


def test_a_long_text_of_dates_is_read_in_one_pass():
    """5,000 dates and no sentence end (a pasted calendar): every one is found and resolved. Each
    expression used to rescan the text before it for tense cues and overlaps (quadratic: 21 s here
    for this text, 9 s more for the query cues); now each looks a bounded way back (0.6 s)."""
    from graphmem.retrieve.cues import QueryFeatures, parse_time_cue

    text = "on May 3 " * 5000
    refs = find_time_expressions(text, ANCHOR)
    assert len(refs) == 5000 and {(r.start, r.end) for r in refs} == {(date(2023, 5, 3), date(2023, 5, 3))}
    assert parse_time_cue(text).months == (5,) and parse_time_cue(text).days == (3,)
    assert QueryFeatures.from_query(text).time.months == (5,)


# ---------------------------------------------------------------- the rules a text is scanned with

_TIME_WORDS = ("last next this past the week weekend month year ago back yesterday today tonight May may Jan. jan "
               "Mon. sun SAT Friday 2023 1999 20 19 of in on early late end beginning Christmas Valentine’s "
               "Valentine's Day Mother’s day within couple a few two 3 from now other before evening night spring "
               "Fall autumn 2023-05-01 5/7/2023 14/3/2023 14.03.2024 7th 31st floor , . ! \n FRİDAY frıday YEſTERDAY ſunday").split(" ")


@given(st.lists(st.sampled_from(_TIME_WORDS) | st.text(max_size=6), min_size=1, max_size=14))
@settings(max_examples=400, deadline=None)
def test_scanning_with_the_rules_a_text_has_words_for_finds_what_every_rule_finds(words):
    """A rule whose words the text lacks is skipped; the matches are those of every rule, the
    IGNORECASE letters ``str.lower`` keeps apart ("İ", "ı", "ſ") included."""
    from graphmem.extract import temporal

    text = " ".join(words)
    every = temporal._matches(text, range(len(temporal._RULES)))
    assert [(s, e, i, m.group(0)) for s, e, i, m in temporal._scan(text)] == [(s, e, i, m.group(0)) for s, e, i, m in every]


@pytest.mark.parametrize("text", ["We met on Valentine’s.", "See you this Valentine’s!", "It was on FRİDAY.",
                                  "It was on frıday.", "We spoke YEſTERDAY."])
def test_expressions_with_curly_apostrophes_and_folded_letters_are_found(text):
    assert find_time_spans(text)  # "Valentine’s" once needed another time word in the text
