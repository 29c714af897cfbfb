"""The user's time zone (``Settings.timezone``): times are stored in UTC, read and shown in the zone,
and relative times resolve in its calendar. Unit checks, then a memory on the real stores."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from graphmem import ConfigurationError, InputError, Settings
from graphmem.forget import parse_before
from graphmem.ingest.live import parse_messages
from graphmem.loaders import load
from graphmem.retrieve.types import validate_query
from graphmem.timezones import local_date, local_seconds, shown, system_zone_name, to_local, to_stored, zone
from conftest import memories

NEW_YORK = "America/New_York"


def test_utc_is_the_default_and_costs_nothing():
    assert Settings().timezone == "UTC" and Settings().tz is None
    assert zone("utc") is None
    stamp = np.array([1.7e9, np.nan])
    assert local_seconds(stamp, None) is stamp
    assert shown("2024-03-17T01:30:00", None) == "2024-03-17T01:30:00"


def test_an_unknown_zone_is_refused_by_name():
    for bad in ("Mars/Olympus_Mons", "", "../etc/passwd"):
        with pytest.raises(ConfigurationError, match="timezone"):
            Settings(timezone=bad)
    assert Settings.from_env({"GRAPHMEM_TIMEZONE": "Europe/Berlin"}).tz == ZoneInfo("Europe/Berlin")


def test_local_is_the_machines_own_zone(tmp_path):
    """'local' reads the zone $TZ names, else the one /etc/localtime links to, else /etc/timezone."""
    (tmp_path / "zoneinfo" / "Europe").mkdir(parents=True)
    (tmp_path / "zoneinfo" / "Europe" / "Lisbon").write_bytes(b"TZif")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "localtime").symlink_to(tmp_path / "zoneinfo" / "Europe" / "Lisbon")
    localtime = str(tmp_path / "etc" / "localtime")
    assert system_zone_name({}, localtime) == "Europe/Lisbon"
    assert system_zone_name({"TZ": ":Asia/Tokyo"}, localtime) == "Asia/Tokyo"
    assert system_zone_name({"TZ": "/usr/share/zoneinfo/Asia/Tokyo"}, localtime) == "Asia/Tokyo"  # a file's path
    (tmp_path / "etc" / "localtime").unlink()
    (tmp_path / "etc" / "localtime").write_bytes(b"TZif")  # a copy, not a link: /etc/timezone says
    (tmp_path / "etc" / "timezone").write_text("America/Lima\n", encoding="utf-8")
    assert system_zone_name({}, localtime) == "America/Lima"
    (tmp_path / "etc" / "timezone").unlink()
    assert system_zone_name({}, localtime) is None
    if system_zone_name() is not None:  # this machine names its zone (Etc/UTC here): accepted
        assert Settings(timezone="local").timezone == "local"
    else:
        with pytest.raises(ConfigurationError, match="timezone 'local'"):
            Settings(timezone="local")


def test_times_are_stored_in_utc_and_read_and_shown_in_the_zone():
    ny = zone(NEW_YORK)
    assert to_stored(datetime(2024, 3, 16, 21, 30), ny) == datetime(2024, 3, 17, 1, 30)  # EDT, -4 h
    assert to_stored(datetime(2024, 1, 16, 21, 30), ny) == datetime(2024, 1, 17, 2, 30)  # EST, -5 h
    assert to_stored(datetime(2024, 3, 17, 1, 30, tzinfo=timezone.utc), ny) == datetime(2024, 3, 17, 1, 30)
    assert to_local(datetime(2024, 3, 17, 1, 30), ny) == datetime(2024, 3, 16, 21, 30)
    assert shown("2024-03-17T01:30:00", ny) == "2024-03-16T21:30:00-04:00"
    assert shown("not a time", ny) == "not a time"
    # where the zone's wall clock would leave years 1-9999 the instant is shown in UTC, saying so (shown
    # naive, it read as a time in the zone: 5 hours off)
    assert shown("0001-01-01T00:00:00", ny) == "0001-01-01T00:00:00+00:00"
    assert shown("9999-12-31T23:59:00", zone("Asia/Tokyo")) == "9999-12-31T23:59:00+00:00"
    seconds = (datetime(2024, 3, 17, 1, 0, tzinfo=timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()
    assert local_date(seconds, ny) == date(2024, 3, 16) and local_date(seconds, None) == date(2024, 3, 17)


def test_local_seconds_follow_daylight_saving_switches():
    ny = zone(NEW_YORK)
    switch = datetime(2024, 3, 10, 7, 0, tzinfo=timezone.utc).timestamp()  # 02:00 EST -> 03:00 EDT
    moved = local_seconds(np.array([switch - 1, switch, np.nan]), ny)
    assert moved[0] == switch - 1 - 5 * 3600 and moved[1] == switch - 4 * 3600 and np.isnan(moved[2])


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-2_000_000_000, max_value=4_000_000_000), min_size=1, max_size=40),
       st.sampled_from([NEW_YORK, "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham"]))
def test_local_seconds_match_each_instant_converted_alone(instants, name):
    tz = zone(name)
    expected = [s + datetime.fromtimestamp(s, tz).utcoffset().total_seconds() for s in instants]
    assert local_seconds(np.array(instants, dtype=np.float64), tz).tolist() == expected


def test_times_a_user_gives_without_an_offset_are_read_in_the_zone(tmp_path):
    ny = zone(NEW_YORK)
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in (
        {"role": "user", "content": "Naive time.", "timestamp": "2024-03-16T21:30:00"},
        {"role": "user", "content": "Time with an offset.", "timestamp": "2024-03-17T01:30:00+00:00"},
    )), encoding="utf-8")
    local = [t.timestamp for t in load(path, timezone=ny)[0].sessions[0].turns]
    assert local == [datetime(2024, 3, 17, 1, 30), datetime(2024, 3, 17, 1, 30)]
    utc = [t.timestamp for t in load(path)[0].sessions[0].turns]
    assert utc == [datetime(2024, 3, 16, 21, 30), datetime(2024, 3, 17, 1, 30)]
    query = validate_query("what happened?", 5, "turn", "auto", ("2024-03-16", None), as_of="2024-03-17T10:00:00", tz=ny)
    assert query.window[0] == datetime(2024, 3, 16, 4, 0, tzinfo=timezone.utc).timestamp()
    assert query.as_of == datetime(2024, 3, 17, 14, 0, tzinfo=timezone.utc).timestamp()
    assert parse_before("2024-03-17", ny) == "2024-03-17T04:00:00"
    assert parse_before("2024-03-17") == "2024-03-17T00:00:00"
    with pytest.raises(InputError, match="as_of"):
        validate_query("what happened?", 5, "turn", "auto", as_of="9999-12-31T23:00:00", tz=zone("America/Los_Angeles"))
    path.write_text('{"role": "user", "content": "Late.", "timestamp": "9999-12-31T23:00:00"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="conversation 'chat': the time 9999-12-31T23:00:00 is outside the years 1-9999"):
        load(path, timezone=ny)  # 04:00 on 1 January 10000 in UTC
    assert load(path)[0].sessions[0].turns[0].timestamp == datetime(9999, 12, 31, 23)


def test_a_unix_time_is_an_instant_in_any_zone(tmp_path):
    """A message's timestamp may be a Unix time (seconds, as chat logs and SDKs give them, a number or
    text of nine or more digits): an instant, the same in every zone; milliseconds are refused with a
    hint, a boolean is no time."""
    ny = zone(NEW_YORK)
    (record,), _ = parse_messages([{"role": "user", "content": "hi", "timestamp": 1710624600}], ny)
    assert record.timestamp == datetime(2024, 3, 16, 21, 30)  # stored UTC; New York does not move it
    for bad, expected in ((1710624600000, "milliseconds?"), (float("inf"), "not a time"), (True, "got bool")):
        with pytest.raises(InputError, match=expected) as caught:
            parse_messages([{"role": "user", "content": "hi", "timestamp": bad}])
        assert "messages[0].timestamp" in str(caught.value)
    path = tmp_path / "log.jsonl"
    path.write_text('{"role": "user", "content": "hi", "timestamp": 1710624600.25}\n', encoding="utf-8")
    assert load(path, timezone=ny)[0].sessions[0].turns[0].timestamp == datetime(2024, 3, 16, 21, 30, 0, 250000)
    path.write_text('{"role": "user", "content": "hi", "timestamp": 1710624600250}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"log.jsonl: line 1.timestamp: .*milliseconds\?"):
        load(path)
    # a Unix time written as text, as Slack exports its ts; ISO 8601's basic date (eight digits) stays a date
    (slack, basic), _ = parse_messages([{"role": "user", "content": "hi", "timestamp": "1710624600.000200"},
                                        {"role": "user", "content": "hi", "timestamp": "20240316"}], ny)
    assert slack.timestamp == datetime(2024, 3, 16, 21, 30, 0, 200) and basic.timestamp == datetime(2024, 3, 16, 4)
    with pytest.raises(InputError, match="milliseconds?"):
        parse_messages([{"role": "user", "content": "hi", "timestamp": "1710624600250"}])
    path.write_text('{"role": "user", "content": "hi", "timestamp": "1710624600.5"}\n', encoding="utf-8")
    assert load(path, timezone=ny)[0].sessions[0].turns[0].timestamp == datetime(2024, 3, 16, 21, 30, 0, 500000)


def test_a_message_added_reads_its_time_as_a_jsonl_file_gives_it(tmp_path):
    """`add` (and `graphmem add -`) read a message's readable date, a zone abbreviation's offset
    included, as the JSONL loader reads the same line: one message is stored alike either way."""
    ny = zone(NEW_YORK)
    stamps = ("1:56 pm on 8 May, 2023", "May 8, 2023 9:00 PST", "2023/05/20 (Sat) 02:21", "2024-03-17T01:30:00+00:00",
              "202403161030")  # (a compact date and time was read as a Unix time: the year 8383)
    lines = [{"role": "user", "content": f"message {n}", "timestamp": stamp} for n, stamp in enumerate(stamps)]
    added, _ = parse_messages(lines, ny)
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    loaded = load(path, timezone=ny)[0].sessions[0].turns
    assert [t.timestamp for t in added] == [t.timestamp for t in loaded]
    assert added[1].timestamp == datetime(2023, 5, 8, 17)  # 9:00 at UTC-8
    assert added[4].timestamp == datetime(2024, 3, 16, 14, 30)  # 10:30 in New York
    (number,), _ = parse_messages([{"role": "user", "content": "hi", "timestamp": 202403161030}], ny)  # as a JSON number too
    assert number.timestamp == datetime(2024, 3, 16, 14, 30)
    with pytest.raises(InputError, match=r"messages\[0\].timestamp: not a date: 'yesterday'"):
        parse_messages([{"role": "user", "content": "hi", "timestamp": "yesterday"}], ny)


def test_a_memory_in_new_york(backend, tmp_path, embedder):
    """Messages sent with local wall-clock times, in the evening (when the UTC date is already
    the next day): they are stored in UTC, shown back in New York time, "yesterday" in them is
    the day before in New York, and a question's "yesterday" and its time filters are too."""
    with memories(backend, Settings(index_dir=str(tmp_path / "index"), jvm_heap="512m", timezone=NEW_YORK)) as factory:
        memory = factory()
        saturday = memory.add({"role": "user", "content": "We cooked a big pot of chili for the neighbours.",
                               "timestamp": "2024-03-16T21:30:00"}, conversation="home").turn_ids[0]
        memory.add({"role": "user", "content": "We walked the dog along the river.", "timestamp": "2024-03-17T20:00:00"},
                   conversation="home")
        memory.add({"role": "user", "content": "I went to the dentist yesterday.", "timestamp": "2024-03-18T21:00:00"},
                   conversation="home")
        stored = {r["text"]: r["timestamp"] for r in memory.cypher(
            "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.text AS text, t.timestamp AS timestamp")}
        assert stored["We cooked a big pot of chili for the neighbours."] == "2024-03-17T01:30:00"

        hit = next(h for h in memory.search("chili for the neighbours", k=3) if h.node_id == saturday)
        assert hit.timestamp == "2024-03-16T21:30:00-04:00"
        assert memory.history(saturday)[-1]["timestamp"] == "2024-03-16T21:30:00-04:00"
        dentist = memory.search("dentist", k=1, unit="event")[0]
        assert (dentist.time_start, dentist.time_end) == ("2024-03-17", "2024-03-17")  # in UTC it would be the 18th

        # asked on Sunday morning in New York: "yesterday" is Saturday the 16th, the day the chili
        # was cooked there (the 17th in UTC)
        hits = memory.search("What did we cook yesterday?", k=3, as_of="2024-03-17T10:00:00")
        chili = next(h for h in hits if h.node_id == saturday)
        assert chili.explanation["time"]["days"] == ["2024-03-16"]
        # said on that very day in New York (the day after in UTC would match at half: one day off)
        assert chili.explanation["contributions"]["time"] == pytest.approx(1.0)

        saturday_only = memory.search("what did we do?", k=3, time_range=("2024-03-16T00:00:00", "2024-03-16T23:59:59"))
        assert [h.node_id for h in saturday_only] == [saturday]
        # the filter explained in the zone the hits are shown in (it was given in UTC, 04:00 to 03:59)
        assert saturday_only[0].explanation["time_range"] == ["2024-03-16T00:00:00-04:00", "2024-03-16T23:59:59-04:00"]
        assert "time range: 2024-03-16T00:00:00-04:00 to 2024-03-16T23:59:59-04:00" in memory.explain(saturday_only[0])
        assert memory.forget(before="2024-03-17")["turns"] == 1  # Saturday in New York ends at 04:00 UTC
        assert saturday not in {h.node_id for h in memory.search("chili", k=3)}


def test_a_time_range_bound_outside_the_years_1_to_9999_in_utc_is_refused_by_name():
    """A bound that the zone or its offset carries out of years 1-9999 in UTC (year 1 in Tokyo, the
    last hours of 9999 west of Greenwich, an epoch number past it) was taken, and the explanation of
    the first hit then raised ValueError; it is an InputError naming the bound, as as_of's is."""
    cases = ((("0001-01-01T00:00:00+05:00", None), None), ((None, "9999-12-31T23:59:59-05:00"), None),
             (("0001-01-01", None), zone("Asia/Tokyo")), (("2024-01-01", 1e12), None))
    for time_range, tz in cases:
        with pytest.raises(InputError, match=r"time_range bound .* is outside the years 1-9999 in UTC"):
            validate_query("what happened?", 5, "turn", "auto", time_range, tz=tz)
    assert validate_query("what happened?", 5, "turn", "auto", ("0001-01-01", "9999-12-31"), tz=None).window is not None
