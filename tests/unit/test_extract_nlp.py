"""The language pipeline: sentences and mentions from the rule-based spaCy pipeline."""

from __future__ import annotations

import pytest

from graphmem.extract.nlp import LanguagePipeline, NameIndex, TextAnalysis


@pytest.fixture(scope="module")
def pipeline() -> LanguagePipeline:
    return LanguagePipeline.load(None)


def mentions(analysis: TextAnalysis, label: str | None = None) -> list[tuple[str, str]]:
    return [(m.text, m.label) for m in analysis.mentions if label is None or m.label == label]


def texts(analysis: TextAnalysis, label: str) -> list[str]:
    return [m.text for m in analysis.mentions if m.label == label]


def test_load_falls_back_to_rule_based_when_model_missing() -> None:
    import spacy

    loaded = LanguagePipeline.load("no_such_pipeline_xyz")
    assert loaded.kind == "rule-based" and loaded.model is None
    default = LanguagePipeline.load()
    expected = "trained" if spacy.util.is_package("en_core_web_sm") else "rule-based"
    assert default.kind == expected


def test_speakers_short_forms_and_possessives(pipeline: LanguagePipeline) -> None:
    text = "Hey Mel! Caroline's painting is in Paris now."
    [a] = pipeline.analyse([text], speakers=["Caroline", "Melanie"])
    assert texts(a, "PERSON") == ["Mel", "Caroline"]
    assert texts(a, "GPE") == ["Paris"]
    assert "painting" in texts(a, "CONCEPT")
    assert "Hey" not in [m.text for m in a.mentions]
    for m in a.mentions:
        assert text[m.char_start:m.char_end] == m.text


def test_sentences_cover_the_text(pipeline: LanguagePipeline) -> None:
    text = "Wow, that's great! I went to a pottery class yesterday. Did you?"
    [a] = pipeline.analyse([text])
    assert [text[s:e] for s, e in a.sentences] == [
        "Wow, that's great!", "I went to a pottery class yesterday.", "Did you?"]


def test_sentence_initial_interjections_are_not_names(pipeline: LanguagePipeline) -> None:
    [a] = pipeline.analyse(["Wow, that's great! Thanks, Caroline. Pottery is fun. Even so, okay."],
                           speakers=["Caroline"])
    assert mentions(a, "PERSON") == [("Caroline", "PERSON")]
    named = [m for m in a.mentions if m.label not in ("PERSON", "CONCEPT", "DATE", "TIME")]
    assert named == []


def test_three_speakers_and_places(pipeline: LanguagePipeline) -> None:
    speakers = ["Jon", "Gina", "Maria"]
    [a, b] = pipeline.analyse(
        [
            "Jon told Gina and Maria about the dance studio in New York City.",
            "gina and I flew to California last summer.",
        ],
        speakers=speakers)
    assert texts(a, "PERSON") == ["Jon", "Gina", "Maria"]
    assert texts(a, "GPE") == ["New York City"]
    assert "dance studio" in texts(a, "CONCEPT")
    assert texts(b, "PERSON") == ["gina"]  # a known name written in lower case
    assert texts(b, "GPE") == ["California"]
    assert texts(b, "DATE") == ["last summer"]


@pytest.mark.parametrize("text", [
    "We explored the coast up in the Pacific Northwest and hit some national parks.",
    "My cousin moved to the Southwest last spring.",
    "We drove along the Gulf Coast, then across the Great Plains.",
])
def test_compass_regions_are_places(pipeline: LanguagePipeline, text: str) -> None:
    [a] = pipeline.analyse([text], speakers=["John", "Maria"])
    found = texts(a, "LOC")
    assert found and all(m.label != "MISC" for m in a.mentions), mentions(a)


def test_non_english_characters_and_emoji(pipeline: LanguagePipeline) -> None:
    text = "🎉 José went to São Paulo with Zoë and Ana Müller 🎉!"
    [a] = pipeline.analyse([text])
    assert ("São Paulo", "GPE") in mentions(a)
    persons = texts(a, "PERSON")
    assert "José" in persons and "Zoë" in persons
    assert any(m.text == "Ana Müller" for m in a.mentions)
    for m in a.mentions:
        assert text[m.char_start:m.char_end] == m.text


def test_known_names_with_accents_match_unaccented_text(pipeline: LanguagePipeline) -> None:
    [a] = pipeline.analyse(["I called Zoe yesterday."], known_names=["Zoë Martin"])
    assert texts(a, "PERSON") == ["Zoe"]


def test_organisations_events_and_titles(pipeline: LanguagePipeline) -> None:
    text = ('She studies at Stanford University and volunteers at the Hope Community Center. '
            'We read "Becoming Nicole" before Christmas with Dr. Patel.')
    [a] = pipeline.analyse([text])
    assert texts(a, "ORG") == ["Stanford University", "Hope Community Center"]
    assert texts(a, "WORK_OF_ART") == ["Becoming Nicole"]
    assert texts(a, "EVENT") == ["Christmas"]
    assert texts(a, "PERSON") == ["Patel"]


def test_dates_and_times(pipeline: LanguagePipeline) -> None:
    [a] = pipeline.analyse(["We met last Saturday at 3 pm, and on Sundays we rest."])
    assert texts(a, "DATE") == ["last Saturday", "Sundays"]
    assert texts(a, "TIME") == ["3 pm"]


def test_key_phrases(pipeline: LanguagePipeline) -> None:
    text = ("I joined a pottery class and an LGBTQ support group, then called the adoption agency. "
            "My kids love hiking and the charity race was awesome.")
    [a] = pipeline.analyse([text])
    concepts = texts(a, "CONCEPT")
    for phrase in ("pottery class", "LGBTQ support group", "adoption agency", "kids", "hiking",
                   "charity race"):
        assert phrase in concepts, concepts
    assert "called" not in " ".join(concepts)
    assert ("LGBTQ", "NORP") in mentions(a)


def test_generic_words_and_evaluative_adjectives_are_not_key_phrases(pipeline: LanguagePipeline) -> None:
    [a] = pipeline.analyse(["That was a great thing, a lot of stuff and a good time. Nice pic!"])
    assert texts(a, "CONCEPT") == []
    [b] = pipeline.analyse(["I found such a helpful new group."])
    assert texts(b, "CONCEPT") == ["group"]


def test_verbs_are_cut_out_of_key_phrases(pipeline: LanguagePipeline) -> None:
    [a] = pipeline.analyse(["I'd love to support those with similar issues. The support group helps."])
    concepts = texts(a, "CONCEPT")
    assert "support group" in concepts
    assert "support" not in concepts


def test_batch_is_deterministic_and_ordered(pipeline: LanguagePipeline) -> None:
    batch = ["Mel went to Rome.", "", "Haha!", "Caroline joined a choir in Sweden."]
    first = pipeline.analyse(batch, speakers=["Melanie", "Caroline"])
    second = pipeline.analyse(list(reversed(batch)), speakers=["Melanie", "Caroline"])
    assert first == list(reversed(second))
    assert [a.text for a in first] == batch
    assert first[1].sentences == () and first[1].mentions == ()
    assert texts(first[0], "GPE") == ["Rome"] and texts(first[3], "GPE") == ["Sweden"]


def test_name_index_forms() -> None:
    index = NameIndex(["Melanie", "Caroline Smith", "Samantha", "Samuel", "Robert"])
    assert index.owner(("mel",)) == "Melanie"
    assert index.owner(("caroline",)) == "Caroline Smith"
    assert index.owner(("smith",)) == "Caroline Smith"
    assert index.owner(("bob",)) == "Robert"
    assert index.owner(("sam",)) is None  # Samantha or Samuel: ambiguous
    assert ("mel",) in index.short_forms and ("melanie",) not in index.short_forms


def test_lower_case_short_forms_are_words_not_names(pipeline: LanguagePipeline) -> None:
    [a] = pipeline.analyse(["I drove the car to see Caro and caroline."], speakers=["Caroline"])
    assert texts(a, "PERSON") == ["Caro", "caroline"]


def test_a_speakers_name_that_is_a_word_opening_a_sentence_before_a_pronoun_is_the_word(pipeline: LanguagePipeline) -> None:
    """"May I ask", "Will you help": mentions of speakers named May and Will, counted as such in
    entity(). Followed by anything else, or addressed with a comma, the name stays a name."""
    speakers = ["May", "Will", "Mark"]
    for text in ("May I ask how many you planted?", "Will you help me water them on Saturday?", "Mark my words."):
        [a] = pipeline.analyse([text], speakers=speakers)
        assert [m.text for m in a.mentions if m.label == "PERSON"] == [], text
    for text, name in (("Will said hi.", "Will"), ("Will, you should come.", "Will"), ("I told May about it.", "May"),
                       ("Yesterday May and I went out.", "May")):
        [a] = pipeline.analyse([text], speakers=speakers)
        assert name in [m.text for m in a.mentions if m.label == "PERSON"], text


def test_long_runs_of_symbols_are_passed_over_with_offsets_kept(pipeline: LanguagePipeline) -> None:
    """spaCy's tokenizer took time growing with the square of a symbol run's length (an add of
    "(" * 20000 + ")" * 20000 took 89 s); such runs are blanked before it, offsets unchanged, so
    the names around them are found where they are."""
    from graphmem.extract.nlp import _tokenizable

    text = "Great news" + "!" * 4000 + " Maria came with Tom." + "\U0001F600" * 300 + " " + "=" * 99 + " Bye."
    blank = _tokenizable(text)
    assert len(blank) == len(text) and "!" not in blank and "\U0001F600" not in blank and "=" * 99 in blank
    [a] = pipeline.analyse([text], speakers=["Maria", "Tom"])
    assert [(text[m.char_start:m.char_end], m.label) for m in a.mentions if m.label == "PERSON"] == [("Maria", "PERSON"), ("Tom", "PERSON")]
    assert _tokenizable("short !!!") == "short !!!"


def test_trained_path_maps_entities_and_known_names() -> None:
    import spacy

    # A stand-in for a trained pipeline: entities from a ruler, no parser.
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([
        {"label": "GPE", "pattern": "Paris"},
        {"label": "ORG", "pattern": "Mel"},  # a wrong label that a known name corrects
        {"label": "CARDINAL", "pattern": "two"},
    ])
    trained = LanguagePipeline(nlp, "trained", "stand-in")
    [a] = trained.analyse(["Mel and Caroline flew to Paris with two kids."],
                          speakers=["Melanie", "Caroline"])
    assert mentions(a) == [("Mel", "PERSON"), ("Caroline", "PERSON"), ("Paris", "GPE")]
    assert a.sentences == ((0, 45),)
    with pytest.raises(ValueError):
        LanguagePipeline(nlp, "fancy")


def test_without_phrases_the_other_mentions_stay(pipeline: LanguagePipeline) -> None:
    texts = ["Caroline took the ring-toss trophy at the Lisbon summer fair with her brother Marco.",
             "The **Eiffel Tower** visit was great; we booked the river cruise for next Friday."]
    full = pipeline.analyse(texts, speakers=["Caroline", "Melanie"])
    lean = pipeline.analyse(texts, speakers=["Caroline", "Melanie"], phrases=False)
    assert any(m.label == "CONCEPT" for a in full for m in a.mentions)
    assert not any(m.label == "CONCEPT" for a in lean for m in a.mentions)
    for a, b in zip(full, lean):
        assert [m for m in a.mentions if m.label != "CONCEPT"] == list(b.mentions) and a.sentences == b.sentences


class _StillRunning(Exception):
    pass


def test_a_long_laugh_ending_in_another_letter_ends(pipeline) -> None:
    """Before, the laughter pattern backtracked exponentially on a word of a's and h's that
    ends in another letter: a capitalised 83-character "Hahaha...hj" took 7 s in Memory.add,
    each two letters more about twice as long; this 125-character one ran for days. A hang
    guard, not a benchmark: a minute is thousands of times what it takes now."""
    import signal

    def stop(_signum, _frame):
        raise _StillRunning
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 60)
    try:
        analysis, _ = pipeline.analyse(["H" + "ah" * 60 + "j that cat video", "Lol" + "lol" * 40 + "x, lolll" * 20],
                                      speakers=["Ann"])
    except _StillRunning:
        pytest.fail("the analysis of a long laugh did not end within a minute")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert analysis.text.startswith("Hahah")


def test_the_laughter_pattern_knows_the_words_it_knew() -> None:
    """The unambiguous laughter pattern takes exactly the words the ambiguous one took."""
    import itertools
    import re

    from graphmem.extract.nlp import _LAUGHTER_RE

    before = re.compile(r"^(?:a*h+a+h*)+$|^(?:h+e+)+$|^(?:l+o+l+)+$|^w+o+w+$|^o+h+$|^a+w+$|"
                        r"^y+a+y+$|^h+m+$|^u+g+h+$|^w+o+a+h+$|^x+d+$|^(?:ha|he|hi|ah){2,}h?$")
    for letters in ("ahx", "lox", "hew"):
        for size in range(1, 10):
            for word in map("".join, itertools.product(letters, repeat=size)):
                assert bool(_LAUGHTER_RE.match(word)) == bool(before.match(word)), word
    assert _LAUGHTER_RE.match("hahahah") and _LAUGHTER_RE.match("lolllol") and not _LAUGHTER_RE.match("lolol")
