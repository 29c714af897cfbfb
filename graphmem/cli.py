"""The ``graphmem`` command line. Only this module prints (with rich)."""

from __future__ import annotations

import json
import logging
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from graphmem.errors import ClosedError, ConfigurationError, GraphmemError, InputError
from graphmem.hits import Hit
from graphmem.loaders import FORMATS
from graphmem.memory import Memory, has_search_terms
from graphmem.namespace_settings import namespace_zone, timezone_in_force
from graphmem.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="graphmem",
    help="Long-term memory for conversational agents: ingest conversations, search them, inspect the graph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

STORE_HELP = "Embedded store directory (or embedded:DIR, as graphmem names it) or bolt:// / neo4j:// URI (default: $GRAPHMEM_STORE or ~/.local/share/graphmem/store)."
StoreOpt = typer.Option(None, "--store", "-s", help=STORE_HELP)
NamespaceOpt = typer.Option("default", "--namespace", "-n", help="Namespace (tenant) to use.")
UserOpt = typer.Option(None, "--user", help="Bolt user (default: $GRAPHMEM_NEO4J_USER or neo4j).")
PasswordOpt = typer.Option(None, "--password", help="Bolt password (default: $GRAPHMEM_NEO4J_PASSWORD).")
DatabaseOpt = typer.Option(None, "--database", help="Neo4j database name (Bolt stores).")
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of tables.")


def _fail(message: str, code: int) -> None:
    # the message may quote user text (a transcript line, a query): never read it as markup
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(text: str) -> str:
    """``text`` with its control characters shown as escapes (``\\x1b``): a stored message holding a
    terminal escape sequence changed the colours or title of the terminal it was printed in."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _text(value: Any) -> Text:
    """A table cell or title printed verbatim: user text is never read as rich markup, nor as
    terminal control sequences."""
    return Text("" if value is None else _visible(str(value)))


@contextmanager
def _errors() -> Iterator[None]:
    """Turn graphmem errors into one-line messages and exit codes (2: input/config, 1: store).

    Any other error (a defect) prints its traceback and a last line naming it, exit 1: Click
    turns an ``EOFError`` into a bare "Aborted." (an unreadable cache ended every search so)."""
    import click

    from graphmem.signals import received_stop, reraise_stop

    try:
        try:
            yield
        except Exception as exc:  # an error a stop signal caused is that stop (graphmem.signals)
            reraise_stop(exc)
            raise
    except (InputError, ConfigurationError) as exc:
        _fail(str(exc), 2)
    except ClosedError as exc:
        _fail(str(exc), 1)
    except GraphmemError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise  # the command's own exit, refusal or usage error
    except Exception as exc:
        if received_stop() is not None:
            raise  # an error a stop caused, its chain lost: main() ends in the stop
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
        _fail(_visible(f"unexpected {type(exc).__name__}: {exc} (a defect; the traceback above says where)"), 1)


def _open(store: Optional[str], namespace: str, user: Optional[str] = None, password: Optional[str] = None,
          database: Optional[str] = None, *, create: bool = False) -> Memory:
    """Open a memory; only ``ingest``, ``add``, ``import``, ``copy`` (its target), ``demo`` and
    ``timezone NAME`` pass ``create=True``: every other
    command on a missing embedded store exits 2 with "no memory at PATH" and creates nothing."""
    settings = Settings.from_env(neo4j_user=user, neo4j_password=password)
    auth = None
    if settings.neo4j_user or settings.neo4j_password:
        auth = (settings.neo4j_user or "neo4j", settings.neo4j_password or "")
    return Memory.open(store, namespace, settings=settings, auth=auth, database=database, create=create)


def _namespace_hint(memory: Memory, namespace: str) -> str:
    """Why ``namespace`` answers nothing, naming the namespaces the store holds."""
    from graphmem.check import namespace_counts

    present = namespace_counts(memory.store)
    where = memory.store.describe()
    remains = sorted(label for label in present.get(namespace, {}) if label in _CONVERSATION_PARTS)
    if remains:  # what only a conversation holds, without it: its Conversation node deleted outside graphmem
        return (f"namespace {namespace!r} in {where} holds {', '.join(remains)} nodes but no Conversation: it is damaged; "
                f"run graphmem check --namespace {namespace} to see what is wrong")
    if namespace in present:  # nodes, but no conversation: a zone set, or every conversation forgotten
        kept = ", ".join(sorted(present[namespace]))
        return (f"namespace {namespace!r} in {where} holds no conversation (only {kept}: a time zone set, or every "
                f"conversation forgotten); add or ingest messages first")
    if not present:
        return f"no namespace {namespace!r} in {where}: the store holds no memories yet (graphmem ingest ... --namespace NS)"
    from difflib import get_close_matches

    close = get_close_matches(namespace, list(present), n=3, cutoff=0.6)
    names = [*close, *(name for name in present if name not in close)][:20]  # likely typos first
    listed = ", ".join(f"{name!r} ({present[name].get('Turn', 0)} turns)" for name in names)
    more = f" and {len(present) - 20} more (graphmem namespaces)" if len(present) > 20 else ""
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return f"no namespace {namespace!r} in {where}{guess}; namespaces present: {listed}{more}"


#: the labels of the nodes a conversation holds: in a namespace without a Conversation, damage
_CONVERSATION_PARTS = frozenset({"Session", "Turn", "Episode", "Event", "TurnVersion"})


def _require_namespace(memory: Memory, namespace: Optional[str] = None, *, any_node: bool = False) -> None:
    """Refuse (exit 2) a namespace that holds no conversation, with a hint naming those present;
    with ``any_node`` (``check``, ``forget``: the commands that look at or clear damage) only one
    that holds no node at all (a Conversation node deleted while its turns remain is checked)."""
    from graphmem.check import namespace_counts, namespace_exists

    target = memory.namespace if namespace is None else namespace
    if namespace_exists(memory.store, target):
        return
    if any_node and target in namespace_counts(memory.store):  # a full scan, on this path alone
        return
    raise InputError(_namespace_hint(memory, target))


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err, transient=False)


def _ingest_with_progress(memory: Memory, paths: list[Path], fmt: str, conversation_id: Optional[str]) -> list[dict[str, Any]]:
    """Ingest each path with one bar per stage, each counting turns: "embed" advances per
    batch of turns and "extract" as turns' events are split and embedded (both inside a long
    conversation too), "store" per conversation committed (see :data:`graphmem.ingest.Progress`)."""
    reports: list[dict[str, Any]] = []
    with _progress() as bar:
        for path in paths:
            tasks: dict[str, Any] = {}

            def update(stage: str, done: int, total: int, tasks=tasks, name=path.name) -> None:
                label = {"embed": "embed", "extract": "extract", "ingest": "store"}.get(stage, stage)
                if label not in tasks:
                    tasks[label] = bar.add_task(escape(f"{label} {name}"), total=total)
                bar.update(tasks[label], completed=done, total=total)

            try:
                report = memory.ingest(path, fmt, conversation_id=conversation_id, progress=update)
            except GraphmemError as exc:  # a file refused once the store was read: say which, and what is stored
                for done in reports:
                    err.print(_text(f"stored before the error: {', '.join(done['sources'])} ({done['turns_added']} turns added)"))
                if str(path) not in str(exc):
                    raise type(exc)(f"{path}: {exc}") from exc
                raise
            for task in tasks.values():  # a file whose turns were all stored already finishes at once
                bar.update(task, completed=report.turns_read, total=report.turns_read)
            reports.append(report.to_dict())
    return reports


def _flat_rows(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(key, value)`` rows of a nested dict: ``units_embedded.turn  42``; floats rounded."""
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flat_rows(value, f"{prefix}{key}.")
        elif isinstance(value, float):
            yield f"{prefix}{key}", f"{value:.2f}"
        elif isinstance(value, (list, tuple)):
            yield f"{prefix}{key}", ", ".join(str(v) for v in value)
        else:
            yield f"{prefix}{key}", str(value)


def _print_report(report: dict[str, Any]) -> None:
    table = Table(title=_text(f"ingested {', '.join(report['sources'])}"), show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    shown = {k: report[k] for k in ("conversations", "sessions", "turns_read", "turns_added", "turns_corrected", "turns_flagged",
                                    "units_embedded", "seconds") if k in report}
    for key, value in _flat_rows(shown):
        table.add_row(key, _text(value))
    out.print(table)


#: characters of a hit's text the search table shows (around the query's words; --full shows all)
TABLE_TEXT_CHARS = 300


def _print_hits(query: str, hits: list[Hit], explanations: list[str] | None = None, full: bool = False) -> None:
    from graphmem.hits import excerpt, with_caption

    table = Table(title=Text(_visible(query), style="bold"), title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("source", overflow="fold")  # a node id (no source id) stays whole, to paste into recipes
    table.add_column("session", justify="right")
    table.add_column("speaker")
    table.add_column("text", overflow="fold")
    table.add_column("via")
    for i, hit in enumerate(hits, 1):
        via = hit.strategy
        parts = hit.explanation.get("contributions") if hit.explanation else None
        if hit.strategy == "auto" and parts:
            via += " (" + ", ".join(k for k, v in sorted(parts.items(), key=lambda kv: -kv[1])[:2]) + ")"
        table.add_row(str(i), f"{hit.score:.3f}", _text(hit.source_id or hit.node_id), str(hit.session_number or ""),
                      _text(hit.speaker), _text(with_caption(hit, hit.text if full else excerpt(hit.text, query, TABLE_TEXT_CHARS))), _text(via))
    out.print(table)
    if not full and any(len(hit.text) > TABLE_TEXT_CHARS for hit in hits):
        err.print(f"texts longer than {TABLE_TEXT_CHARS} characters are shown around the query's words (… marks a cut); "
                  "--full shows them whole")
    for i, text in enumerate(explanations or [], 1):
        out.print(f"[bold]#{i}[/]", highlight=False)
        out.print(_visible(text), markup=False, highlight=False)
        out.print()


def _json(data: Any) -> None:
    """Print a command's JSON result: its work is done, so a stop from now on lets the process
    finish (exit 0 with the whole document, not "interrupted" after it; graphmem.signals.work_done)."""
    from graphmem.signals import work_done

    text = json.dumps(data, ensure_ascii=False, default=str)
    work_done()
    out.print_json(text)


@app.command()
def demo(store: Optional[str] = typer.Option(None, "--store", "-s", help="Directory for the demo store (default: a temporary directory, removed afterwards).")) -> None:
    """Ingest the bundled sample conversation into an embedded store and run a few searches."""
    with _errors(), tempfile.TemporaryDirectory(prefix="graphmem-demo-") as tmp:
        location = store or str(Path(tmp) / "store")
        with resources.as_file(resources.files("graphmem").joinpath("data", "sample_conversation.json")) as sample:
            kept = "" if store else " (temporary: removed when the demo ends; give --store DIR to keep it)"
            out.print(f"[bold]graphmem demo[/]: embedded store at [cyan]{escape(location)}[/]{kept}")
            with _open(location, "demo", create=True) as memory:
                (report,) = _ingest_with_progress(memory, [sample], "auto", None)
                _print_report(report)
                for query in ("What is the name of Tom's dog?", "How did Priya do in the half marathon?",
                              "Where did Tom go hiking?", "What did Priya make in pottery class?"):
                    _print_hits(query, memory.search(query, k=3))
                _print_stats(memory.stats())


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files to ingest (LoCoMo JSON, JSONL chat, transcript, native JSON; .gz ok)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    fmt: str = typer.Option("auto", "--format", "-f", help=f"Input format: {'|'.join(FORMATS)}."),
    conversation_id: Optional[str] = typer.Option(None, "--conversation-id", help="Conversation key for JSONL/transcripts (default: the file name without its extensions: chat for chat.jsonl.gz)."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Ingest conversations. Every file is validated before anything of it is stored."""
    with _errors():
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        from graphmem.loaders import file_key, load

        named: dict[str, Path] = {}  # a conversation key taken from a file's name -> that file
        for path in paths:  # validate everything first: a bad file stores nothing
            records = load(path, fmt, conversation_id)
            key = file_key(path) if conversation_id is None else conversation_id
            if any(record.key == key for record in records):
                if key in named and named[key].resolve() != path.resolve():
                    # two chats named alike (alice/chat.jsonl, bob/chat.jsonl), or given one key: the second
                    # would correct the first
                    source = "from their names" if conversation_id is None else "from --conversation-id"
                    way_out = "with --conversation-id, or rename one" if conversation_id is None else "with a --conversation-id each"
                    raise InputError(f"{named[key]} and {path}: both files' conversations take the key {key!r} {source}, "
                                     f"so the second would replace the first's messages; ingest them one at a time {way_out}")
                named[key] = path
        with _open(store, namespace, user, password, database, create=True) as memory:
            reports = _ingest_with_progress(memory, paths, fmt, conversation_id)
        if as_json:
            _json(reports)
        else:
            from graphmem.signals import work_done

            work_done()  # stored and closed: a stop now lets the reports print and the process end
            for report in reports:
                _print_report(report)


@app.command()
def add(
    text: str = typer.Argument(..., help="The message text, or - to read JSONL messages from standard input "
                                         "(one {\"speaker\"|\"role\", \"text\"|\"content\", \"timestamp\"?, \"id\"?, \"caption\"?, \"metadata\"?} per line)."),
    conversation: str = typer.Option(..., "--conversation", "-c", help="Conversation key to append to."),
    session: Optional[str] = typer.Option(None, "--session", help="Session key (default: the latest session, or a new one after a gap)."),
    speaker: str = typer.Option("user", "--speaker", help="Who said TEXT."),
    message_id: Optional[str] = typer.Option(None, "--id", help="Your id of the message (sending it again with new text corrects it)."),
    timestamp: Optional[str] = typer.Option(None, "--timestamp", help="When TEXT was said (ISO 8601 or a readable date; default: now, or for "
                                                                      "a correction (--id of a stored message) the time it has)."),
    caption: Optional[str] = typer.Option(None, "--caption", help="Description of an image sent with TEXT."),
    meta: list[str] = typer.Option([], "--meta", help="Metadata key=value of TEXT (repeatable; value parsed as JSON when it can be)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Add one message (or JSONL messages from stdin with -) to a conversation, as it happens."""
    with _errors():
        numbers: list[int] = []  # the stdin line of each JSONL message
        if text == "-":
            from graphmem.loaders.checks import text_lines

            raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8", "surrogateescape")
            try:  # as a file is read: a byte-order mark passed over, a byte that is no UTF-8 named by its line
                lines = text_lines(raw.decode("utf-8-sig"))
            except UnicodeDecodeError as exc:
                line = raw[:exc.start].count(b"\n") + 1
                raise InputError(f"<stdin>:{line}: a byte that is no UTF-8 text ({raw[exc.start:exc.start + 1]!r})") from None
            messages: list[dict[str, Any]] = []
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise InputError(f"<stdin>:{number}: malformed JSON: {exc}") from None
                if not isinstance(item, dict):
                    raise InputError(f"<stdin>:{number}: expected a JSON object per line, got {type(item).__name__}")
                messages.append(item)
                numbers.append(number)
            if not messages:
                raise InputError("<stdin>: no messages")
            if caption is not None or meta or message_id is not None or timestamp is not None:
                raise InputError("--id, --timestamp, --caption and --meta describe TEXT; with - each JSONL message carries its own")
        else:
            metadata = dict(_parse_meta(item) for item in meta)
            if timestamp is not None:  # checked here so that the error names the option (add reads it in the zone)
                from graphmem.ingest.live import parse_timestamp

                parse_timestamp(timestamp, "--timestamp")
            messages = [{"speaker": speaker, "text": text, **({"timestamp": timestamp} if timestamp is not None else {}),
                         **({"id": message_id} if message_id is not None else {}),
                         **({"caption": caption} if caption is not None else {}), **({"metadata": metadata} if metadata else {})}]
        from graphmem.ingest.live import parse_messages

        try:  # bad messages: refused before a store is made for them (read again in the zone)
            parse_messages(messages)
        except InputError as exc:
            raise InputError(_named_as_given(str(exc), numbers if text == "-" else None)) from None
        if not conversation.strip():
            raise InputError("--conversation: expected a non-empty key")
        with _open(store, namespace, user, password, database, create=True) as memory:
            report = memory.add(messages, conversation=conversation, session=session)
        if as_json:
            _json(report.to_dict())
        else:
            data = report.to_dict()
            shown = ("added", "corrected", "unchanged", *(("skipped",) if data["skipped"] else ()), "seconds")
            out.print(_kv_table(f"added to {conversation!r}", {k: data[k] for k in shown}
                                | {"turn_ids": ", ".join(data["turn_ids"]) or "-",
                                   "sessions_opened": ", ".join(data["sessions_opened"]) or "-"}))


#: What the API's error calls a field of ``add``'s one message, and what the command line calls it.
_ADD_FIELDS = {"text": "TEXT", "speaker": "--speaker", "id": "--id", "timestamp": "--timestamp", "caption": "--caption",
               "metadata": "--meta"}


def _named_as_given(message: str, lines: Optional[list[int]]) -> str:
    """An ``add`` error of the API ("messages[0].text: empty") in the command line's words: "TEXT: empty"
    for the one message of the arguments, "<stdin>:3: content: empty" for JSONL messages on ``lines``."""
    if lines is not None:
        head = re.sub(r"^messages\[(\d+)\]\.?", lambda m: f"<stdin>:{lines[int(m.group(1))]}" + (": " if m.group(0)[-1] == "." else ""),
                      message)
        return re.sub(r"messages\[(\d+)\]", lambda m: f"the message of line {lines[int(m.group(1))]}", head)
    named = re.sub(r"^messages\[0\](?:\.(\w+))?", lambda m: _ADD_FIELDS.get(m.group(1) or "", "TEXT"), message)
    return re.sub(r"^--meta\.", "--meta ", named)


@app.command()
def correct(
    turn_id: str = typer.Argument(..., help="The turn id of the message (graphmem messages, a search hit)."),
    text: Optional[str] = typer.Argument(None, help="What the message should say (left out: keep its text)."),
    speaker: Optional[str] = typer.Option(None, "--speaker", help="The new speaker."),
    caption: Optional[str] = typer.Option(None, "--caption", help="The new image description ('' removes it)."),
    meta: list[str] = typer.Option([], "--meta", help="Metadata key=value replacing the stored metadata (repeatable)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Correct a stored message by its turn id; the old text is kept as a version (graphmem history)."""
    with _errors():
        metadata = dict(_parse_meta(item) for item in meta) or None
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory)
            report = memory.correct(turn_id, text, speaker=speaker, caption=caption, metadata=metadata)
        data = report.to_dict()
        if as_json:
            _json(data)
        else:
            out.print(_kv_table(f"corrected in {data['conversation']!r}", {k: data[k] for k in ("corrected", "unchanged", "seconds")}
                                | {"turn_ids": ", ".join(data["turn_ids"])}))


@app.command()
def history(
    turn_id: str = typer.Argument(..., help="The turn id of the message (graphmem messages, a search hit)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every text a message has had, oldest first; the last is the current one."""
    with _errors():
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory)
            versions = memory.history(turn_id)
        if as_json:
            _json(versions)
            return
        from graphmem.hits import captioned

        table = Table(title=_text(f"history of {turn_id}"), title_justify="left")
        for name in ("version", "speaker", "text", "said", "replaced"):
            table.add_column(name, overflow="fold")
        for entry in versions:
            table.add_row(str(entry["version"]) + (" (current)" if entry["current"] else ""), _text(entry["speaker"]),
                          _text(captioned(entry["text"], entry.get("caption"))),
                          _text((entry.get("timestamp") or "").replace("T", " ")[:16]),
                          _text((entry.get("replaced_at") or "").replace("T", " ")[:19]))
        out.print(table)


@app.command()
def search(
    query: str = typer.Argument(..., help="The question or keywords."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    k: int = typer.Option(10, "-k", "--k", min=1, help="Number of hits."),
    unit: str = typer.Option("turn", "--unit", "-u", help="turn|event|episode|session"),
    strategy: str = typer.Option("auto", "--strategy", help="auto|dense|lexical|activation|expansion"),
    since: Optional[str] = typer.Option(None, "--since", help="Only memories from this time on (ISO 8601 date or time)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only memories up to this time (ISO 8601 time, or a date: through that day)."),
    explain: bool = typer.Option(False, "--explain", help="Explain every hit: strategies, route, seeds, edges."),
    speaker: Optional[str] = typer.Option(None, "--speaker", help="Only what this speaker said (case-insensitive)."),
    conversation: Optional[str] = typer.Option(None, "--conversation", "-c", help="Only this conversation (its key as ingested)."),
    session: Optional[str] = typer.Option(None, "--session", help="Only sessions with this key (as ingested)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="When the question is asked (ISO 8601; default now): "
                                                              "'last Saturday' in it means the Saturday before this."),
    exclude: list[str] = typer.Option([], "--exclude", help="A node id not to return (repeatable), e.g. a turn id from graphmem messages."),
    meta: list[str] = typer.Option([], "--meta", help="Only messages whose metadata holds key=value (repeatable; value parsed "
                                                      "as JSON when it can be, as graphmem add --meta stores it)."),
    context: bool = typer.Option(False, "--context", help="Print the hits as a prompt-ready text block for an LLM (Memory.context)."),
    full: bool = typer.Option(False, "--full", help="Print long texts whole (the table shows 300 characters around the "
                                                    "query's words, --context 1,000)."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Search the memory and print the hits with their provenance (and, with --explain, why)."""
    with _errors():
        time_range = (since, until) if since or until else None
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory)
            started = time.perf_counter()
            hits = memory.search(query, k=k, unit=unit, strategy=strategy, time_range=time_range, speaker=speaker,
                                 conversation=conversation, session=session, as_of=as_of, exclude=exclude or None,
                                 metadata=dict(_parse_meta(item) for item in meta) or None)
            elapsed = time.perf_counter() - started
            explanations = [memory.explain(h) for h in hits] if explain else []
        if context:
            from graphmem.hits import CONTEXT_CHARS, context_text

            block = context_text(query, hits, None if full else CONTEXT_CHARS)
            if as_json:  # (--json was ignored: plain text that no JSON reader took)
                _json({"query": query, "context": block, "hits": [h.to_dict() for h in hits]})
            else:
                out.print(_visible(block), markup=False, highlight=False, soft_wrap=True)
            return
        if as_json:  # compact: the explanation (most of the bytes) only with --explain
            _json([dict(h.to_dict(explain=explain), **({"explanation_text": text} if explain else {})) for h, text in
                   zip(hits, explanations or [None] * len(hits))])
        else:
            _print_hits(query, hits, explanations, full)
            if not has_search_terms(query):
                err.print("no hits: the query has no letters or digits to search for")
            err.print(f"{len(hits)} hits in {elapsed * 1000:.1f} ms (first search of a process includes loading the caches)")


@app.command()
def recall(
    conversation: str = typer.Option(..., "--conversation", "-c", help="The conversation the agent is in."),
    query: Optional[str] = typer.Argument(None, help="What to recall for (default: the conversation's latest message)."),
    recent: int = typer.Option(20, "--recent", min=0, help="How many of the latest messages to show (0: none)."),
    k: int = typer.Option(5, "-k", "--k", min=1, help="How many memories to recall."),
    full: bool = typer.Option(False, "--full", help="Print long texts whole (else 1,000 characters around the query's words)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
) -> None:
    """Print what an agent reads before answering in a conversation: its recent messages, then the memories
    most relevant to the latest one (or QUERY) from every conversation, none of them already shown (Memory.recall)."""
    with _errors():
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory)
            from graphmem.hits import CONTEXT_CHARS

            text = memory.recall(conversation, query, recent=recent, k=k, max_chars=None if full else CONTEXT_CHARS)
        out.print(_visible(text), markup=False, highlight=False, soft_wrap=True)


@app.command()
def messages(
    conversation: str = typer.Option(..., "--conversation", "-c", help="The conversation key."),
    session: Optional[str] = typer.Option(None, "--session", help="Only this session's messages."),
    last: int = typer.Option(20, "--last", min=0, help="The last N messages (0: all)."),
    before: Optional[str] = typer.Option(None, "--before", help="Only messages said before this turn id (to page back)."),
    full: bool = typer.Option(False, "--full", help=f"Print long texts whole (the table shows their first {TABLE_TEXT_CHARS} characters)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Print a conversation's messages, oldest first, with their turn ids (for graphmem correct, history, forget --turn)."""
    with _errors():
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory)
            entries = memory.messages(conversation, session=session, last=last or None, before=before)
        if as_json:
            _json(entries)
            return
        if not entries:
            err.print(_text(f"no messages in conversation {conversation!r}" + (f" session {session!r}" if session else "")))
            return
        from graphmem.hits import captioned, excerpt

        table = Table(title=_text(f"conversation {conversation!r}" + (f" · session {session!r}" if session else "")),
                      title_justify="left")
        for name in ("time", "session", "speaker", "text", "id", "turn"):
            table.add_column(name, overflow="fold", no_wrap=name == "time")
        for entry in entries:
            text = captioned(entry["text"] if full else excerpt(entry["text"], "", TABLE_TEXT_CHARS), entry.get("caption"))
            table.add_row(_text((entry.get("timestamp") or "").replace("T", " ")[:16]), _text(entry.get("session")),
                          _text(entry.get("speaker")), _text(text),
                          _text(" ".join(x for x in (entry.get("source_id") or "",
                                                     f"(v{entry['version']})" if entry.get("version") else "") if x)),
                          _text(entry["turn_id"]))
        out.print(table)


@app.command()
def entity(
    name: str = typer.Argument(..., help="An entity's name or alias (any casing)."),
    mentions: int = typer.Option(10, "--mentions", min=0, max=1000, help="The latest N messages that name it."),
    related: int = typer.Option(10, "--related", min=0, max=1000, help="The N entities it comes up with most."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """What the memory knows about an entity: kind, aliases, how often and when, related entities, latest mentions.
    Exits 1 when no entity has the name."""
    with _errors():
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory)
            profile = memory.entity(name, mentions=mentions, related=related)
        if as_json:
            _json(profile)
        elif profile is not None:
            from graphmem.entities import profile_text

            out.print(_text(profile_text(profile, TABLE_TEXT_CHARS)))
        if profile is None:
            err.print(_text(f"no entity named {name!r} in namespace {namespace!r} (graphmem entities lists them)"))
            raise typer.Exit(1)


@app.command()
def entities(
    label: Optional[str] = typer.Option(None, "--label", help="Only entities of this kind (PERSON, GPE, ORG, ...)."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="The most entities listed."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List a namespace's entities, those in the most events first."""
    with _errors():
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory)
            rows = memory.entities(label=label, limit=limit)
        if as_json:
            _json(rows)
            return
        if not rows:
            err.print("no entities" + (f" labelled {label.upper()}" if label else ""))
            return
        table = Table(title=_text(f"entities · namespace {namespace!r}"), title_justify="left")
        for column in ("name", "label", "events", "named in", "aliases"):
            table.add_column(column, overflow="fold", justify="right" if column in ("events", "named in") else "left")
        for row in rows:
            table.add_row(_text(row["name"]), _text(row["label"]), str(row["events"]), str(row["mentions"]),
                          _text(", ".join(row["aliases"])))
        out.print(table)


@app.command("timezone")
def timezone_command(
    name: Optional[str] = typer.Argument(None, help="Set this zone: an IANA name (Europe/Berlin, America/New_York), UTC, "
                                                    "or local (this machine's). Without it, print the zone in force."),
    clear: bool = typer.Option(False, "--clear", help="Remove the namespace's zone ($GRAPHMEM_TIMEZONE applies again)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Print or set a namespace's time zone, stored with it so every process and server worker reads and shows
    its times there (over $GRAPHMEM_TIMEZONE). Stored times do not change; they are shown in the new zone."""
    with _errors():
        if name is not None and clear:
            raise InputError("give a zone to set or --clear, not both")
        if name is not None:  # a name that is no zone: refused before a store is made for it
            from graphmem.timezones import zone_name

            zone_name(name)
        with _open(store, namespace, user, password, database, create=name is not None) as memory:
            if name is not None or clear:
                memory.set_timezone(None if clear else name)
            zone_in_force, stored = timezone_in_force(memory.store, memory.namespace, memory.settings.timezone)
        if as_json:
            _json({"namespace": namespace, "timezone": zone_in_force, "stored": stored})
        elif stored is None:
            out.print(_text(f"{zone_in_force} (no zone set for namespace {namespace!r}: $GRAPHMEM_TIMEZONE or UTC applies)"))
        else:
            out.print(_text(f"{zone_in_force} (set for namespace {namespace!r})"))


@app.command()
def stats(
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Counts per node label and relationship type in a namespace."""
    with _errors():
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory)
            data = memory.stats()
        if as_json:
            _json(data)
            return
        _print_stats(data)


def _print_stats(data: dict[str, Any]) -> None:
    table = Table(title=_text(f"{data['store']} · namespace {data['namespace']!r}"), title_justify="left")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("count", justify="right")
    for label, count in data["nodes"].items():
        table.add_row("node", _text(label), str(count))
    for rel, count in data["relationships"].items():
        table.add_row("relationship", _text(rel), str(count))
    for granularity, count in data.get("topics", {}).items():
        table.add_row("topics", _text(granularity), str(count))
    out.print(table)


@app.command()
def namespaces(
    store: Optional[str] = StoreOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List the namespaces of a store with their counts of conversations, sessions, turns and nodes."""
    with _errors():
        from graphmem.check import namespace_counts

        with _open(store, "default", user, password, database) as memory:
            counts = namespace_counts(memory.store)
            where = memory.store.describe()
        if as_json:
            _json([{"namespace": name, "nodes": sum(labels.values()), "labels": labels} for name, labels in counts.items()])
            return
        table = Table(title=_text(f"namespaces in {where}"), title_justify="left")
        table.add_column("namespace", overflow="fold")
        for column in ("conversations", "sessions", "turns", "nodes"):
            table.add_column(column, justify="right")
        for name, labels in counts.items():
            table.add_row(_text(name), str(labels.get("Conversation", 0)), str(labels.get("Session", 0)),
                          str(labels.get("Turn", 0)), str(sum(labels.values())))
        out.print(table)
        if not counts:
            err.print("the store holds no namespaces yet")


@app.command()
def schema(
    store: Optional[str] = typer.Option(None, "--store", "-s", help="Also compare this store's namespace with the schema (both ways)."),
    namespace: str = NamespaceOpt,
    markdown: bool = typer.Option(False, "--markdown", help="Print the schema as the Markdown tables of the README."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Every node label and relationship type with its properties (types, optional ones, meaning).
    With --store, compare a namespace of a store with it; exit 1 when the store holds anything undocumented."""
    from graphmem import schema as graph_schema

    with _errors():
        if store is not None:
            with _open(store, namespace, user, password, database) as memory:
                _require_namespace(memory)
                comparison = graph_schema.compare_with_store(memory.store, memory.namespace)
            if as_json:
                _json(comparison.to_dict())
            else:
                table = Table("finding", "where", title=_text(f"schema vs {store} · namespace {namespace!r}"), title_justify="left")
                for name, items in comparison.to_dict().items():
                    for item in items:
                        table.add_row(name.replace("_", " "), _text(item))
                out.print(table if table.row_count else "every label, type and property in the store is documented, "
                          "and every one documented as always present is there")
            if not comparison.documented:
                raise typer.Exit(1)
            return
        if markdown:
            out.print(graph_schema.schema_markdown(), markup=False, highlight=False, soft_wrap=True)
            return
        if as_json:
            _json(graph_schema.schema_dict())
            return
        for node in graph_schema.NODES:
            table = Table("property", "type", "description", title=_text(f"(:{node.name}) {node.description}"
                                                                        + (" · optional" if node.optional else "")),
                          title_justify="left")
            for prop in node.properties:
                table.add_row(_text(prop.name + (" (optional)" if prop.optional else "")), _text(prop.type), _text(prop.description))
            out.print(table)
        table = Table("relationship", "joins", "properties", "description", title="relationships", title_justify="left")
        for rel in graph_schema.RELATIONSHIPS:
            table.add_row(_text(rel.name + (" (optional)" if rel.optional else "")), _text(graph_schema.endpoints_text(rel)),
                          _text(", ".join(f"{p.name}: {p.type}" for p in rel.properties)), _text(rel.description))
        out.print(table)


@app.command()
def recluster(
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Refit the GMM topics of every granularity and replace the old topics atomically."""
    with _errors():
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory)
            with err.status("refitting topics ..."):
                counts = memory.recluster()
        if as_json:
            _json(counts)
        else:
            out.print(_kv_table("topics per granularity", counts))


@app.command()
def forget(
    conversation: Optional[str] = typer.Option(None, "--conversation", "-c", help="Conversation key to forget (as ingested, e.g. a LoCoMo sample_id)."),
    session: Optional[str] = typer.Option(None, "--session", help="Session key within --conversation."),
    before: Optional[str] = typer.Option(None, "--before", help="Forget turns said before this ISO 8601 date or time."),
    turn: Optional[list[str]] = typer.Option(None, "--turn", help="A turn id to forget (repeatable)."),
    meta: list[str] = typer.Option([], "--meta", help="Forget the messages whose metadata holds key=value (repeatable; value "
                                                      "parsed as JSON when it can be)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Forget turns and everything derived only from them, in one transaction; the caches and topics follow
    (refitted where the forget took a topic or a tenth of its units), so what is forgotten never comes back
    from search. Criteria combine."""
    with _errors():
        from graphmem.forget import ForgetSelection, plan_forget

        metadata = dict(_parse_meta(item) for item in meta) or None
        turns = list(turn) if turn else None
        ForgetSelection.of(conversation, session, before, turns=turns, metadata=metadata)  # bad criteria: before the store
        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory, any_node=True)
            if not yes:  # the selection memory.forget makes: --before read in the namespace's zone
                selection = ForgetSelection.of(conversation, session, before, turns=turns, metadata=metadata,
                                               tz=namespace_zone(memory.store, memory.namespace, memory.settings.tz))
                preview = plan_forget(memory.store, memory.namespace, selection).counts
                if not preview["turns"]:
                    err.print("nothing matches; nothing forgotten")
                    if as_json:  # a script reads the counts whatever they are
                        _json(dict(preview, topics_refitted=0, topics_relabelled=0))
                    return
                _confirm(_kv_table(f"will forget in namespace {memory.namespace!r}", preview), "Forget these for good?",
                         "nothing forgotten", as_json)
            with err.status("forgetting ..."):
                counts = memory.forget(conversation, session, before, turn=turns, metadata=metadata)
        if as_json:
            _json(counts)
        elif not counts["turns"]:
            err.print("nothing matches; nothing forgotten")
        else:
            out.print(_kv_table(f"forgotten in namespace {namespace!r}", counts))


def _confirm(preview: Table, question: str, refused: str, as_json: bool) -> None:
    """Show what a destructive command will do and ask; exit 1 (saying ``refused``) unless the user agrees.
    The question and what it asks about go to standard error under --json (standard output keeps its document)."""
    (err if as_json else out).print(preview)
    try:
        confirmed = typer.confirm(question, default=False, err=True)
    except typer.Abort:  # end of input
        confirmed = False
    if not confirmed:
        err.print(refused)
        raise typer.Exit(1)


@app.command()
def drop(
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Delete a whole namespace: every node of it, its relationships and its caches (Memory.drop_namespace);
    other namespaces are untouched. Finishes a drop that was stopped part way."""
    with _errors():
        from graphmem.check import namespace_counts

        with _open(store, namespace, user, password, database) as memory:
            _require_namespace(memory, any_node=True)
            if not yes:
                labels = namespace_counts(memory.store).get(memory.namespace, {})
                _confirm(_kv_table(f"will delete namespace {memory.namespace!r}", labels), "Delete this namespace for good?",
                         "nothing deleted", as_json)
            with err.status("dropping ..."):
                deleted = memory.drop_namespace()
        if as_json:
            _json({"namespace": namespace, "nodes_deleted": deleted})
        else:
            out.print(_text(f"dropped namespace {namespace!r}: {deleted} nodes deleted"))


@app.command()
def check(
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    all_namespaces: bool = typer.Option(False, "--all-namespaces", help="Check every namespace of the store."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Check integrity: no orphans, duplicates or links across namespaces in the graph, no broken order, every
    stored value of the schema's type and every embedding sound; every ANN cache entry matches a stored node and
    embedding (caches that disagree are rebuilt). Exit code 1 when the graph has a problem."""
    with _errors():
        from graphmem.check import namespaces

        with _open(store, namespace, user, password, database) as memory:
            if not all_namespaces:
                _require_namespace(memory, any_node=True)
            targets = namespaces(memory.store) if all_namespaces else [memory.namespace]
            reports = [memory.check(namespace=target) for target in targets]
        if as_json:
            _json([r.to_dict() for r in reports])
        else:
            for report in reports:
                table = Table(title=_text(report.summary()), title_justify="left")
                for column in ("check", "count", "sample"):
                    table.add_column(column)
                for name, ids in report.problems.items():
                    table.add_row(_text(name), str(len(ids)), _text(", ".join(ids[:3])))
                for unit, state in report.indexes.items():
                    action = " (rebuilt)" if state.rebuilt else ""
                    table.add_row(f"{unit} index", str(state.stored), f"{state.state}{action}")
                for cache in report.caches_rebuilt:
                    table.add_row(f"{cache} cache", "", "unreadable (rebuilt)")
                out.print(table)
        if not all(r.ok for r in reports):
            raise typer.Exit(1)


@app.command()
def show(
    html: Path = typer.Option(..., "--html", help="Write the interactive graph to this HTML file (standalone, works offline)."),
    entity: Optional[str] = typer.Option(None, "--entity", help="An entity name or alias: the events it takes part in."),
    episode: Optional[str] = typer.Option(None, "--episode", help="An episode node id: its turns, events and entities."),
    conversation: Optional[str] = typer.Option(None, "--conversation", "-c", help="A conversation key: its sessions and episodes."),
    query: Optional[str] = typer.Option(None, "--query", help="A search: the path that explains its best hit."),
    unit: str = typer.Option("turn", "--unit", "-u", help="With --query: turn|event|episode|session"),
    strategy: str = typer.Option("auto", "--strategy", help="With --query: auto|dense|lexical|activation|expansion"),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most this many events around an entity (default 50) or episodes of a conversation (default 500)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Write an interactive graph (pan, zoom, click a node for its properties) as one offline HTML file."""
    from graphmem.explore import build_spec, hit_caption, view_title, write_html
    from graphmem.explore.html import check_target

    with _errors():
        if sum(x is not None for x in (entity, episode, conversation, query)) != 1:
            raise InputError("give exactly one of --entity, --episode, --conversation or --query")
        check_target(html)
        with _open(store, namespace, user, password, database) as memory:
            hit = None
            if query is not None:
                hits = memory.search(query, k=1, unit=unit, strategy=strategy)
                if not hits:
                    raise InputError(f"no hits for the query {query!r} in namespace {namespace!r}")
                hit = hits[0]
            graph = memory.to_networkx(entity=entity, episode=episode, conversation=conversation, hit=hit, limit=limit)
            spec = build_spec(memory.store, memory.namespace, graph, title=view_title(graph),
                              caption=hit_caption(hit) if hit is not None else None)
        path = write_html(spec, html)
        summary = {"html": str(path), "title": spec["title"], "nodes": len(spec["nodes"]), "edges": len(spec["edges"])}
        if as_json:
            _json(summary)
        else:
            out.print(f"wrote {escape(str(path))}: {escape(spec['title'])} · {summary['nodes']} nodes, {summary['edges']} edges",
                      highlight=False)


def _key_value(option: str, text: str) -> tuple[str, Any]:
    """``key=value`` of ``option``, the value parsed as JSON when it can be (else the text)."""
    key, equals, raw = text.partition("=")
    if not equals:
        raise InputError(f"{option} {text!r}: expected key=value")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _parse_meta(text: str) -> tuple[str, Any]:
    key, value = _key_value("--meta", text)
    if not key.strip():
        raise InputError(f"--meta {text!r}: expected key=value")
    return key, value


def _parse_param(text: str) -> tuple[str, Any]:
    key, value = _key_value("--param", text)
    if not key.isidentifier():
        raise InputError(f"--param {text!r}: {key!r} is not a valid parameter name")
    return key, value


EMBEDDING_KEYS = ("embedding",)
"""Node properties left out of printed rows unless ``--embeddings`` (384 numbers each)."""


def _without_embeddings(value: Any) -> Any:
    """``value`` with every ``embedding`` property of the nodes (maps) in it left out."""
    if isinstance(value, dict):
        return {k: _without_embeddings(v) for k, v in value.items() if k not in EMBEDDING_KEYS and not k.endswith("_embedding")}
    if isinstance(value, list):
        return [_without_embeddings(v) for v in value]
    return value


def _rounded(value: Any) -> Any:
    """Floats in ``value`` rounded to 3 decimals, for tables (``--json`` keeps them exact)."""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _cell(value: Any) -> Text:
    """A result value as a table cell: strings verbatim, floats rounded, the rest as JSON."""
    if isinstance(value, str):
        return Text(_visible(value))
    if isinstance(value, float):
        return Text(format(round(value, 3), "g"))
    return Text(json.dumps(_rounded(value), ensure_ascii=False, default=str))


def _print_rows(rows: list[dict[str, Any]], wide: bool) -> None:
    """Rows as a table. Cells are never cut with "…": long values fold onto more lines, and
    with ``wide`` every cell stays on one line (ids can be copied whole)."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    table = Table(title_justify="left")
    for column in columns or ["(no rows)"]:
        table.add_column(_text(column), overflow="fold", no_wrap=wide)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    (Console(width=100_000) if wide else out).print(table)


@app.command()
def cypher(
    query: Optional[str] = typer.Argument(None, help="Cypher text (or use --file / --recipe)."),
    file: Optional[Path] = typer.Option(None, "--file", help="Run the Cypher in this file."),
    recipe: Optional[str] = typer.Option(None, "--recipe", help="Run a shipped inspection recipe by name (see --list)."),
    list_recipes: bool = typer.Option(False, "--list", help="List the shipped inspection recipes and exit."),
    param: list[str] = typer.Option([], "--param", "-p", help="Parameter key=value (value parsed as JSON when it can be)."),
    write: bool = typer.Option(False, "--write", help="Allow writes (run in a write transaction)."),
    wide: bool = typer.Option(False, "--wide", help="Keep every cell on one line (ids whole, to copy); the table may be wider than the terminal."),
    embeddings: bool = typer.Option(False, "--embeddings", help="Keep the embedding property of returned nodes (left out by default)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="SECONDS",
                                            help="Stop the query after this long (default $GRAPHMEM_CYPHER_TIMEOUT, else 30; 0: no limit)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Run Cypher with parameters ($namespace is set for you; a recipe's or a file's parameters have defaults where its header says)."""
    with _errors():
        from graphmem.resources import recipes

        if list_recipes:
            shipped = recipes()
            if as_json:
                _json([{"name": r.name, "description": r.description, "parameters": list(r.parameters),
                        "defaults": r.defaults, "file": f"cypher/inspect/{r.name}.cypher"} for r in shipped])
                return
            table = Table("recipe", "answers", "parameters", title="inspection recipes (cypher/inspect/)", title_justify="left")
            for r in shipped:
                table.add_row(r.name, _text(r.description), _text(", ".join(
                    f"${p}" + (f"={json.dumps(r.defaults[p])}" if p in r.defaults else "") for p in r.parameters)))
            out.print(table)
            return
        if sum(x is not None for x in (query, file, recipe)) != 1:
            raise InputError("give exactly one of QUERY, --file or --recipe")
        params = dict(_parse_param(p) for p in param)
        if recipe is not None:
            by_name = {r.name: r for r in recipes()}
            if recipe not in by_name:
                raise InputError(f"no recipe named {recipe!r}; see graphmem cypher --list")
            chosen = by_name[recipe]
            query = chosen.text
            params = {**chosen.defaults, **params}
            missing = [p for p in chosen.parameters if p not in params and p != "namespace"]
            if missing:
                raise InputError(f"recipe {recipe}: missing parameter " + ", ".join(f"${p}" for p in missing)
                                 + " (give it with --param " + missing[0] + "=VALUE)")
        if file is not None:
            try:
                query = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from exc
            from graphmem.resources import Recipe

            # a header "// Parameters: $limit (default 50)", as a recipe's; $namespace is --namespace's, whatever a header says
            defaults = {k: v for k, v in Recipe(file.stem, query).defaults.items() if k != "namespace"}
            params = {**defaults, **params}
        with _open(store, namespace, user, password, database) as memory:
            if "$namespace" in (query or "") and "namespace" not in params:
                from graphmem.check import namespace_exists

                if not namespace_exists(memory.store, memory.namespace):
                    err.print(Text("note: " + _namespace_hint(memory, memory.namespace)), highlight=False, soft_wrap=True)
            rows = memory.cypher(query or "", params, write=write, timeout=timeout)
        if not embeddings:
            rows = _without_embeddings(rows)
        if as_json:
            _json(rows)
            return
        _print_rows(rows, wide)
        err.print(f"{len(rows)} row(s)")


eval_app = typer.Typer(help="Score retrieval on benchmark data (LoCoMo, LongMemEval).", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

DEFAULT_EVAL_STRATEGIES = ["bm25", "dense", "activation", "expansion", "auto"]
LONGMEMEVAL_STRATEGIES = ["auto", "dense", "bm25"]


def _metric_table(title: str, report, ks=(1, 3, 5, 10)) -> Table:
    from graphmem.eval.harness import iter_metric_rows

    table = Table(title=title, title_justify="left")
    table.add_column("category", no_wrap=True)  # (LongMemEval's "single-session-preference" was cut)
    table.add_column("n", justify="right")
    for metric in ("R_all", "R_any", "NDCG"):
        for k in ks:
            table.add_column(f"{metric}@{k}", justify="right")
    for name, count, values in iter_metric_rows(report, ks):
        table.add_row(_text(name), str(count), *(f"{v:.1f}" for v in values))
    return table


def _run_eval(cases, strategies: list[str], store: Optional[str], keep: bool, rankings: Optional[Path],
              json_out: Optional[Path], session_by: str, prefix: str, stream: bool = False) -> Any:
    from graphmem.eval.harness import STRATEGY_ALIASES, run_evaluation
    from graphmem.memory import STRATEGIES

    strategies = strategies or DEFAULT_EVAL_STRATEGIES
    for name in strategies:  # before the ingest (a bad one was found after it, or never: no questions)
        if STRATEGY_ALIASES.get(name, name) not in STRATEGIES:
            raise InputError(f"unknown strategy {name!r}; expected one of {', '.join(sorted({*STRATEGIES, *STRATEGY_ALIASES}))}")
    for option, target in (("--rankings", rankings), ("--json", json_out)):  # before the run, not after it
        if target is not None and (target.is_dir() or not target.parent.is_dir()):
            raise InputError(f"{option} {target}: " + ("is a folder; name a file" if target.is_dir()
                                                        else f"the folder {target.parent} does not exist"))
    with tempfile.TemporaryDirectory(prefix="graphmem-eval-") as tmp:
        location = store or str(Path(tmp) / "store")
        keep_namespaces = keep and store is not None
        settings = Settings.from_env()

        def open_memory(name: str) -> Memory:
            return Memory.open(location, f"{prefix}:{name}", settings=settings)

        def cleanup(memory: Memory) -> None:
            if not keep_namespaces:
                memory.drop_namespace()

        total = sum(len(c.questions) for c in cases) * len(strategies)
        with _progress() as bar:
            task = bar.add_task(f"eval {len(cases)} conversation(s) × {len(strategies)} strategies", total=total)
            def timed(case: dict) -> None:
                bar.console.print(f"{escape(str(case['case']))}: {case['turns']} turns, ingest {case['ingest_seconds']:.1f} s, "
                                  f"queries {case['query_seconds']:.2f} s")

            result = run_evaluation(open_memory, cases, strategies, session_by=session_by, rankings=rankings,
                                    progress=lambda done, _total: bar.update(task, completed=done),
                                    on_case_done=cleanup, on_case_timed=timed, stream=stream)
    wide = Console(width=max(out.width, 150))  # 14 numeric columns do not fit 80 characters
    for strategy, levels in result.reports.items():
        for level, report in levels.items():
            wide.print(_metric_table(f"{strategy} · {level} level", report))
    out.print(f"{result.questions} questions scored ({result.skipped} without usable evidence skipped); "
              f"ingest {result.ingest_seconds:.1f} s; query seconds per strategy: "
              + ", ".join(f"{k} {v:.1f}" for k, v in result.query_seconds.items()))
    if json_out:
        json_out.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
        err.print(_text(f"metrics written to {json_out}"))
    if rankings:
        err.print(_text(f"rankings written to {rankings}"))
    return result


@eval_app.command("locomo")
def eval_locomo(
    path: Path = typer.Argument(..., help="LoCoMo file (locomo10.json layout)."),
    strategy: list[str] = typer.Option([], "--strategy", help="Strategy to score (repeatable; default bm25, dense, activation, expansion, auto)."),
    rankings: Optional[Path] = typer.Option(None, "--rankings", help="Write one JSONL line per question and strategy."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics as JSON."),
    store: Optional[str] = typer.Option(None, "--store", "-s", help="Store to use (default: a temporary embedded store)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the evaluation namespaces (with --store); with --folds, "
                              "namespaces kept by an earlier run are reused without ingesting again."),
    folds: Optional[int] = typer.Option(None, "--folds", help="Leave-one-conversation-out tuning of the router constants "
                                        "(auto): tune on the other conversations, score the held-out one, per fold; "
                                        "prints in-fold and out-of-fold figures."),
    stream: bool = typer.Option(False, "--stream", help="Send every conversation through add one message per call "
                                                        "(live writes) instead of one batch ingest."),
) -> None:
    """Ingest each LoCoMo conversation into its own namespace, ask its questions, score R_all/R_any/NDCG@k."""
    with _errors():
        from graphmem.eval.locomo import locomo_cases

        cases = locomo_cases(path)
        if folds is not None:
            if rankings is not None or strategy or stream:  # (they were passed over without a word)
                raise InputError("--folds scores the router's own choices: it takes no --rankings, --strategy or --stream")
            _run_folds(cases, folds, store, keep, json_out, "eval-locomo")
            return
        _run_eval(cases, strategy, store, keep, rankings, json_out, "number", "eval-locomo", stream)


def _run_folds(cases, folds: int, store: Optional[str], keep: bool, json_out: Optional[Path], prefix: str) -> None:
    import numpy as np

    from graphmem.embed import Embedder
    from graphmem.eval.folds import run_folds, split_folds
    from graphmem.caches import NamespaceCaches

    try:
        split_folds(cases, folds)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    settings = Settings.from_env()
    embedder = Embedder.from_settings(settings)
    with tempfile.TemporaryDirectory(prefix="graphmem-eval-") as tmp:
        location = store or str(Path(tmp) / "store")
        reuse = keep and store is not None

        def engines(case):
            memory = Memory.open(location, f"{prefix}:{case.name}", settings=settings)
            try:
                if reuse and memory.stats()["nodes"].get("Turn"):
                    err.print(f"{escape(case.name)}: reusing the kept namespace {escape(memory.namespace)}")
                else:
                    started = time.perf_counter()
                    memory.ingest(list(case.conversations))
                    err.print(f"{escape(case.name)}: ingested in {time.perf_counter() - started:.1f} s")
                engine = NamespaceCaches(memory.store, embedder, settings, memory.namespace).engine()
                # one call per question, as a search embeds its query (a call of a few texts computes
                # in float32, see graphmem.embed.FLOAT32_CALL_TEXTS): the vectors the searches would use
                vectors = (np.stack([embedder.encode([q.question])[0] for q in case.questions]) if case.questions
                           else embedder.encode([]))
                if not reuse:
                    memory.drop_namespace()
            finally:
                memory.close()
            return engine, vectors

        with _progress() as bar:
            task = bar.add_task(f"{folds} folds over {len(cases)} conversation(s)", total=None)
            report = run_folds(engines, cases, folds, settings.retrieval,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
    _print_folds(report)
    if json_out:
        json_out.write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
        err.print(_text(f"metrics written to {json_out}"))


def _print_folds(report) -> None:
    wide = Console(width=max(out.width, 150))
    table = Table(title=f"auto, leave-one-conversation-out: {report.configs} configurations of {', '.join(report.grid)}",
                  title_justify="left")
    for column in ("held out", "chosen on the others", "in-fold turn R_all@10", "out-of-fold turn R_all@10",
                   "defaults out-of-fold", "in-fold session R_all@3", "out-of-fold session R_all@3"):
        table.add_column(column, justify="left" if column.startswith(("held", "chosen")) else "right")
    for fold in report.folds:
        table.add_row(", ".join(fold.held_out), ", ".join(f"{k}={v}" for k, v in fold.chosen.items()),
                      f"{fold.in_fold['turn'].overall.get('R_all@10', 0):.1f}", f"{fold.out_of_fold['turn'].overall.get('R_all@10', 0):.1f}",
                      f"{fold.default_out_of_fold['turn'].overall.get('R_all@10', 0):.1f}",
                      f"{fold.in_fold['session'].overall.get('R_all@3', 0):.1f}", f"{fold.out_of_fold['session'].overall.get('R_all@3', 0):.1f}")
    wide.print(table)
    pooled = Table(title="pooled over folds, per category (out-of-fold: every question scored by constants chosen without it)",
                   title_justify="left")
    for column in ("category", "n", "in-fold turn R_all@10", "out-of-fold turn R_all@10", "defaults turn R_all@10",
                   "out-of-fold turn NDCG@10", "in-fold session R_all@3", "out-of-fold session R_all@3", "defaults session R_all@3"):
        pooled.add_column(column, justify="right")
    groups = [("all", None)] + [(str(c), c) for c in report.pooled_out_of_fold["turn"].by_category]

    def value(levels, level: str, metric: str, category) -> str:
        r = levels[level]
        metrics = r.overall if category is None else r.by_category.get(category, {})
        return f"{metrics.get(metric, 0.0):.1f}"

    for name, category in groups:
        n = report.pooled_out_of_fold["turn"].counts.get("all" if category is None else category, 0)
        pooled.add_row(name, str(n), value(report.pooled_in_fold, "turn", "R_all@10", category),
                       value(report.pooled_out_of_fold, "turn", "R_all@10", category), value(report.pooled_default, "turn", "R_all@10", category),
                       value(report.pooled_out_of_fold, "turn", "NDCG@10", category), value(report.pooled_in_fold, "session", "R_all@3", category),
                       value(report.pooled_out_of_fold, "session", "R_all@3", category), value(report.pooled_default, "session", "R_all@3", category))
    wide.print(pooled)
    out.print(f"{report.questions} questions; in-fold figures are on the conversations each choice was made on, "
              "out-of-fold on the held-out one")


bench_app = typer.Typer(help="Benchmarks that print measured figures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


def _kv_table(title: str, data: dict[str, Any]) -> Table:
    table = Table(title=_text(title), show_header=False, title_justify="left")
    for key, value in _flat_rows(data):
        table.add_row(_text(key), _text(value))
    return table


@bench_app.command("ingest")
def bench_ingest_cmd(
    path: Path = typer.Argument(..., help="Input to ingest (any supported format)."),
    runs: int = typer.Option(3, "--runs", min=1, help="Cold runs (fresh processes); the median-ratio run is shown."),
    as_json: bool = JsonOpt,
) -> None:
    """Ingest PATH into a fresh store and compare with embedding the same texts alone (one
    call), in RUNS cold processes; prints the median run. What a process loads once (the
    embedding model, the language pipeline, topic fitting's scikit-learn) is loaded before
    both timings and printed apart; ratio_with_writer_loads counts the writer's loads in."""
    with _errors():
        from graphmem.bench.ingest import bench_ingest_runs

        err.print(_text(f"{runs} run(s): ingesting {path} into a fresh temporary store, then embedding the same texts alone ..."))
        result = bench_ingest_runs(path, Settings.from_env(), runs, on_run=lambda n, r: err.print(
            f"  run {n}/{runs}: ingest {r['ingest_seconds']} s, embed alone {r['embed_alone_seconds']} s, ratio {r['ratio']} "
            f"({r['ratio_with_writer_loads']} with the writer's one-time loads, {r['setup_seconds']['writer_loads']} s)"))
        _json(result) if as_json else out.print(_kv_table(f"bench ingest {path.name}", result))


@bench_app.command("add")
def bench_add_cmd(
    sizes: str = typer.Option("1000,100000", "--sizes", help="Memory sizes in turns, comma-separated."),
    adds: int = typer.Option(100, "--adds", min=5, help="Timed adds (one message each) per size."),
    searches: int = typer.Option(5, "--searches", min=0,
                                 help="Searches timed right after an add, and as many with nothing written before them (0: none)."),
    forgets: int = typer.Option(3, "--forgets", min=0,
                                help="Messages forgotten one by one after the searches, each followed by a timed search "
                                     "(at most --searches; 0: none)."),
    ingests: int = typer.Option(0, "--ingests", min=0,
                                help="Batch ingests timed last, each of a small file (a new conversation of 20 messages "
                                     "on a subject the memory has not seen; 0: none)."),
    corrections: int = typer.Option(0, "--corrections", min=0,
                                    help="Messages the searches' adds stored, corrected by turn id one by one (at most "
                                         "--searches less --forgets; 0: none)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Regenerate the synthetic memories even when cached."),
    as_json: bool = JsonOpt,
) -> None:
    """Latency p50/p95 of one warm add (one message, embedding included) into memories of 1k and
    100k turns, of a search right after an add, of an agent's recall, of forgetting and of
    correcting one message, and of ingesting a small file. Memories are generated once and cached under ~/.cache/graphmem/bench; each run
    adds to a copy."""
    with _errors():
        from graphmem.bench.add import bench_add

        try:
            size_list = [int(x.replace("_", "")) for x in sizes.split(",") if x.strip()]
        except ValueError as exc:
            raise InputError(f"--sizes {sizes!r}: expected comma-separated integers") from exc
        if not size_list or min(size_list) < 100:
            raise InputError("--sizes: every size must be at least 100 turns")
        result = bench_add(Settings.from_env(), size_list, adds, searches=searches, forgets=forgets, ingests=ingests,
                           corrections=corrections, rebuild=rebuild, say=lambda message: err.print(message, highlight=False))
        if as_json:
            _json(result)
        else:
            columns = ["turns", "p50 ms", "p95 ms", "max ms", "median ms per stage"]
            timed = [key for key in ("search_after_add", "search_warm", "recall", "forget", "search_after_forget", "correct", "ingest")
                     if any(key in entry for entry in result["sizes"].values())]
            columns += [{"search_after_add": "search after an add p50 / p95 ms", "search_warm": "search, nothing new p50 / p95 ms",
                         "recall": "recall (20 messages + 5 memories) p50 / p95 ms", "correct": "correct one message p50 / p95 ms",
                         "forget": "forget one message p50 / p95 ms", "search_after_forget": "search after a forget p50 / p95 ms",
                         "ingest": "ingest a small file p50 / p95 ms"}[key]
                        for key in timed]
            table = Table(*columns, title=f"bench add ({adds} adds per size)", title_justify="left")
            for size, entry in result["sizes"].items():
                row = [size, str(entry["p50_ms"]), str(entry["p95_ms"]), str(entry["max_ms"]),
                       ", ".join(f"{k} {v}" for k, v in entry["stage_median_ms"].items())]
                row += [f"{entry[key]['p50_ms']} / {entry[key]['p95_ms']}" for key in timed]
                table.add_row(*row)
            out.print(table)


@bench_app.command("query")
def bench_query_cmd(
    sizes: str = typer.Option("10000,100000", "--sizes", help="Memory sizes in turns, comma-separated."),
    queries: int = typer.Option(100, "--queries", min=5, help="Timed queries per strategy and size."),
    strategy: list[str] = typer.Option([], "--strategy", help="Strategy to time (repeatable; default all)."),
    unit: str = typer.Option("turn", "--unit", "-u", help="turn|event|episode|session"),
    rebuild: bool = typer.Option(False, "--rebuild", help="Regenerate the synthetic memories even when cached."),
    bolt: bool = typer.Option(False, "--bolt", help="Also time the change-marker read over Bolt (starts a local ArcadeDB server)."),
    as_json: bool = JsonOpt,
) -> None:
    """Query latency p50/p95 per strategy on synthetic memories (default 10k and 100k turns),
    query embedding and hydration included, and what reading the change marker adds to each
    query. Memories are generated once and cached under ~/.cache/graphmem/bench (the first
    run builds them: a few minutes)."""
    with _errors():
        from graphmem.bench.query import bench_query
        from graphmem.memory import STRATEGIES

        try:
            size_list = [int(x.replace("_", "")) for x in sizes.split(",") if x.strip()]
        except ValueError as exc:
            raise InputError(f"--sizes {sizes!r}: expected comma-separated integers") from exc
        if not size_list or min(size_list) < 100:
            raise InputError("--sizes: every size must be at least 100 turns")
        for name in strategy:
            if name not in STRATEGIES:
                raise InputError(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
        from graphmem.hits import UNITS

        if unit not in UNITS:
            raise InputError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")
        result = bench_query(Settings.from_env(), size_list, queries, strategy or list(STRATEGIES), unit=unit, rebuild=rebuild,
                             say=lambda message: err.print(message, highlight=False), bolt=bolt)
        if as_json:
            _json(result)
            return
        for size, row in result["sizes"].items():
            table = Table(title=f"bench query · {int(size):,} turns ({row['events']:,} events, {row['entities']:,} entities, "
                                f"{row['episodes']:,} episodes) · {result['queries_per_strategy']} queries · unit {result['unit']} · "
                                f"k {result['k']}", title_justify="left")
            for column in ("strategy", "p50 ms", "p95 ms", "mean ms", "max ms"):
                table.add_column(column, justify="right" if column != "strategy" else "left")
            for name, stats in row["strategies"].items():
                table.add_row(name, f"{stats['p50_ms']:.1f}", f"{stats['p95_ms']:.1f}", f"{stats['mean_ms']:.1f}", f"{stats['max_ms']:.1f}")
            emb = row["query_embedding_only"]
            table.add_row("[dim](query embedding alone)[/]", f"{emb['p50_ms']:.1f}", f"{emb['p95_ms']:.1f}", f"{emb['mean_ms']:.1f}",
                          f"{emb['max_ms']:.1f}")
            marker = row["change_marker"]
            table.add_row("[dim](change-marker read, included)[/]", f"{marker['p50_ms']:.2f}", f"{marker['p95_ms']:.2f}",
                          f"{marker['mean_ms']:.2f}", f"{marker['max_ms']:.2f}")
            out.print(table)
            out.print(f"caches loaded in {sum(row['load_s'].values()):.1f} s {row['load_s']}; peak RSS {row['peak_rss_mb']:,.0f} MB"
                      + (f"; built in {sum(row['build_s'].values()):.0f} s {row['build_s']}" if row["build_s"] else ""),
                      highlight=False)
        if "change_marker_bolt" in result:
            marker = result["change_marker_bolt"]
            out.print(f"change-marker read over Bolt (added to every query): p50 {marker['p50_ms']:.2f} ms, "
                      f"p95 {marker['p95_ms']:.2f} ms, mean {marker['mean_ms']:.2f} ms", highlight=False)


@bench_app.command("segment")
def bench_segment_cmd(
    path: Path = typer.Argument(..., help="Conversations with several sessions (e.g. LoCoMo)."),
    as_json: bool = JsonOpt,
) -> None:
    """Score episode segmentation against true session boundaries (Pk, WindowDiff) beside a fixed-size baseline."""
    with _errors():
        from graphmem.bench.segment import bench_segment

        result = bench_segment(path, Settings.from_env())
        if as_json:
            _json(result)
            return
        table = Table(title=_text(f"bench segment {path.name} (lower is better)"), title_justify="left")
        for column in ("conversation", "turns", "sessions", "segments", "k", "Pk", "WindowDiff", "baseline Pk", "baseline WD",
                       "phase-avg baseline Pk", "phase-avg baseline WD"):
            table.add_column(column, justify="right")
        rows = result["conversations"] + [dict(result["mean"], conversation="mean", n="", k="")]
        for row in rows:
            table.add_row(_text(row.get("conversation")), str(row.get("n")), f"{row['reference_segments']:g}", f"{row['segments']:g}",
                          str(row.get("k")), f"{row['segmenter']['pk']:.3f}", f"{row['segmenter']['window_diff']:.3f}",
                          f"{row['baseline']['pk']:.3f}", f"{row['baseline']['window_diff']:.3f}",
                          f"{row['baseline_phase_mean']['pk']:.3f}", f"{row['baseline_phase_mean']['window_diff']:.3f}")
        Console(width=max(out.width, 150)).print(table)


@bench_app.command("transfer")
def bench_transfer_cmd(
    path: Optional[Path] = typer.Argument(None, help="Conversations to ingest as the memory (any supported format)."),
    synthetic: Optional[int] = typer.Option(None, "--synthetic", min=100, help="Use a synthetic memory of this many turns instead."),
    bolt: bool = typer.Option(True, "--bolt/--no-bolt", help="Also import into and export from a Bolt store (ArcadeDB's Bolt plugin)."),
    as_json: bool = JsonOpt,
) -> None:
    """Export and import throughput (nodes/s): embedded -> file -> fresh embedded, file -> Bolt -> file."""
    with _errors():
        from graphmem.bench.transfer import bench_transfer

        if (path is None) == (synthetic is None):
            raise InputError("give exactly one of PATH or --synthetic N")
        result = bench_transfer(Settings.from_env(), path=path, synthetic=synthetic, bolt=bolt,
                                say=lambda message: err.print(message, highlight=False))
        if as_json:
            _json(result)
            return
        table = Table(title=f"bench transfer · {result['memory']} · peak RSS {result['peak_rss_mb']:,.0f} MB", title_justify="left")
        for column in ("stage", "nodes", "relationships", "seconds", "nodes/s", "records/s", "file MB"):
            table.add_column(column, justify="left" if column == "stage" else "right")
        for row in result["stages"]:
            table.add_row(row["stage"], f"{row['nodes']:,}", f"{row['relationships']:,}", f"{row['seconds']:.1f}",
                          f"{row['nodes_per_s']:,.0f}", f"{row['records_per_s']:,.0f}", str(row.get("file_mb", "")))
        out.print(table)


@eval_app.command("longmemeval")
def eval_longmemeval(
    path: Path = typer.Argument(..., help="LongMemEval file (longmemeval_s/_m/_oracle .json or .json.gz)."),
    strategy: list[str] = typer.Option([], "--strategy", help="Strategy to score (repeatable; default auto, dense, bm25)."),
    rankings: Optional[Path] = typer.Option(None, "--rankings", help="Write one JSONL line per question and strategy."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics as JSON."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Evaluate only the first N (non-abstention) questions."),
    store: Optional[str] = typer.Option(None, "--store", "-s", help="Store to use (default: a temporary embedded store)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the evaluation namespaces (with --store)."),
) -> None:
    """Ingest each question's haystack into its own namespace, ask it there, score sessions and turns
    (auto, dense and bm25 unless --strategy says otherwise: LongMemEval's reference points)."""
    with _errors():
        from graphmem.eval.longmemeval import longmemeval_cases

        cases, skipped = longmemeval_cases(path, limit)
        err.print(f"{len(cases)} questions to evaluate ({skipped} abstention questions skipped)")
        result = _run_eval(cases, strategy or LONGMEMEVAL_STRATEGIES, store, keep, rankings, json_out, "key", "eval-longmemeval")
        if result.cases:
            per_question = sum(c["ingest_seconds"] + c["query_seconds"] for c in result.cases) / len(result.cases)
            out.print(f"{per_question:.1f} s per question (ingest and queries): 100 questions would take "
                      f"{per_question * 100 / 60:.1f} min at this speed")


# ---------------------------------------------------------------------------- serving (issue #14)
def _hub(store: Optional[str], user: Optional[str], password: Optional[str], database: Optional[str], max_open: int | None = None):
    from graphmem.server.hub import MAX_OPEN, MemoryHub
    from graphmem.settings import default_store_location

    settings = Settings.from_env(neo4j_user=user, neo4j_password=password)
    auth = (settings.neo4j_user or "neo4j", settings.neo4j_password or "") if settings.neo4j_user or settings.neo4j_password else None
    return MemoryHub.open(store or default_store_location(), settings, auth=auth, database=database,
                          max_open=MAX_OPEN if max_open is None else max_open)


@app.command()
def serve(
    store: Optional[str] = StoreOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (a non-loopback one needs a token)."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    token: Optional[str] = typer.Option(None, "--token", help="Bearer token clients must send (default: $GRAPHMEM_TOKEN)."),
    max_body_mb: float = typer.Option(16.0, "--max-body-mb", min=0.001, help="Largest request body accepted, in MiB."),
    max_open: int = typer.Option(64, "--max-open", min=1, help="Most namespaces kept open; the least recently used idle ones "
                                 "beyond it are closed (their caches saved) and opened again by their next request."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
) -> None:
    """Serve one store to many clients: HTTP JSON API (OpenAPI at /openapi.json) and MCP at /mcp.
    SIGTERM, Ctrl-C or SIGHUP stops it gracefully (requests in flight finish, the store is closed; exit 0)."""
    with _errors():
        from graphmem.server.run import listen_socket, require_safe_bind, serve as run_server
        from graphmem.settings import server_token

        secret = server_token(token)
        require_safe_bind(host, secret)
        sock = listen_socket(host, port)  # a taken port fails at once, before a store is opened (or made) and models load
        try:
            hub = _hub(store, user, password, database, max_open)
        except BaseException:
            sock.close()
            raise
        try:
            hub.warm_up()  # the first request should not wait for the model
        except BaseException:
            sock.close()
            hub.close()
            raise
        stopped_by = run_server(hub, host, port, token=secret, max_body=int(max_body_mb * 1024 * 1024), sock=sock, on_ready=lambda url: err.print(
            f"serving {hub.describe()} at {url} ({'token required' if secret else 'no token: loopback only'}); "
            f"OpenAPI at {url}/openapi.json, MCP at {url}/mcp", highlight=False, soft_wrap=True))
        if stopped_by is not None:
            err.print("interrupted")


@app.command("mcp")
def mcp_command(
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
) -> None:
    """Serve the MCP tools (recall_memory, add_memory, search_memory, explain_memory, correct_memory, forget_memory,
    recent_messages, about_entity, memory_stats) over stdio. SIGTERM, Ctrl-C or SIGHUP stops it gracefully (the calls
    in flight are answered, later ones refused, the store is closed; exit 0)."""
    with _errors():
        from graphmem.memory import validate_namespace
        from graphmem.server.mcp import run_stdio

        validate_namespace(namespace)
        hub = _hub(store, user, password, database)
        try:
            hub.warm_up()  # as serve does: the first tool call should not wait for the model
            stopped_by = run_stdio(hub, namespace)
        finally:
            hub.close()
        if stopped_by is not None:
            err.print("interrupted")


@bench_app.command("serve")
def bench_serve_cmd(
    clients: int = typer.Option(8, "--clients", min=1, max=256, help="Concurrent clients."),
    seconds: float = typer.Option(30.0, "--seconds", min=1.0, help="How long the clients add and search."),
    store: Optional[str] = typer.Option(None, "--store", "-s", help="Embedded store directory for the server (default: a temporary one)."),
    namespace_per_client: bool = typer.Option(False, "--namespace-per-client", help="Each client writes its own namespace (default: all share one)."),
    as_json: bool = JsonOpt,
) -> None:
    """Start `graphmem serve` on loopback and run CLIENTS clients that each add a message and search, in a
    loop, for SECONDS; print throughput, p50/p95 per endpoint, errors, and whether every message was stored once."""
    with _errors():
        from graphmem.bench.serve import bench_serve

        result = bench_serve(clients=clients, seconds=seconds, store=store, namespace_per_client=namespace_per_client,
                             say=lambda m: err.print(m, highlight=False))
        if as_json:
            _json(result)
            return
        table = Table(title=f"bench serve · {result['clients']} clients · {result['namespaces']} namespace(s) · {result['seconds']} s · "
                            f"{result['store']}", title_justify="left")
        for column in ("endpoint", "requests", "per s", "p50 ms", "p95 ms", "max ms", "errors"):
            table.add_column(column, justify="left" if column == "endpoint" else "right")
        for name, row in result["endpoints"].items():
            table.add_row(name, str(row["requests"]), f"{row['per_second']:.1f}", f"{row['p50_ms']:.0f}", f"{row['p95_ms']:.0f}",
                          f"{row['max_ms']:.0f}", str(row["errors"]))
        out.print(table)
        out.print(f"throughput {result['throughput_per_s']} requests/s", highlight=False)
        out.print(_kv_table("after the run", {k: result[k] for k in ("messages_acknowledged", "messages_stored", "lost", "duplicated",
                                                                      "check_ok", "server_exit")}))
        if result["errors"] or result["lost"] or result["duplicated"] or not result["check_ok"]:
            raise typer.Exit(1)

# ---------------------------------------------------------------------------- moving a memory
def _summary_table(title: str, summary: dict[str, Any]) -> Table:
    table = Table(title=_text(title), show_header=False, title_justify="left")  # names and paths: never markup
    table.add_row("namespaces", _text(", ".join(summary["namespaces"])))
    for key in ("nodes", "relationships", "seconds", "nodes_per_second"):
        table.add_row(key, str(summary[key]))
    for key, count in summary["counts"].items():
        table.add_row(f"  {key}", str(count))
    return table


def _moving(bar: Progress, description: str) -> Any:
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(escape(_visible(f"{description}: {stage}")), total=total or None)
        bar.update(tasks[stage], completed=done, total=total or None)

    return update


@app.command("export")
def export_cmd(
    output: Path = typer.Option(..., "--output", "-o", help="Dump file to write (gzip JSON Lines, e.g. memory.jsonl.gz)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    all_namespaces: bool = typer.Option(False, "--all-namespaces", help="Dump every namespace of the store."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Write a namespace (or all) to a dump file: every node and relationship with every property, embeddings
    included, a header (format, graphmem version, embedding model and dimension) and a checksummed trailer."""
    with _errors():
        with _open(store, namespace, user, password, database) as memory, _progress() as bar:
            if not all_namespaces:
                _require_namespace(memory)  # an empty dump of a mistyped namespace is no backup
            summary = memory.export(output, all_namespaces=all_namespaces, progress=_moving(bar, "export")).to_dict()
        _json(summary) if as_json else out.print(_summary_table(f"exported to {output}", summary))


@app.command("import")
def import_cmd(
    path: Path = typer.Argument(..., help="Dump file written by graphmem export."),
    store: Optional[str] = StoreOpt,
    namespace: Optional[str] = typer.Option(None, "--namespace", "-n", help="Import into this namespace instead of the dump's (a dump of one namespace)."),
    reembed: bool = typer.Option(False, "--reembed", help="Embed the texts again with the current model (needed when the dump's model or dimension differ)."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Check a dump file whole, then write it into a store in batches (one transaction each). A damaged, truncated or
    edited file is refused naming the line, and nothing is stored; importing the same dump twice changes nothing."""
    with _errors():
        try:
            _open(store, namespace or "default", user, password, database).close()
        except ConfigurationError as exc:
            if not str(exc).startswith("no memory at"):
                raise
            from graphmem.dump import DumpReader, check_embeddings, target_namespaces

            reader = DumpReader(path)
            for _ in reader.records():  # a new store: made only for a dump that reads whole
                pass
            assert reader.header is not None  # whose vectors this memory's model can search
            check_embeddings(reader.header, Settings.from_env().embedding_model, None, reembed, str(path))
            target_namespaces(reader.header, namespace, str(path))  # and that it may write under that name
        with _open(store, namespace or "default", user, password, database, create=True) as memory, _progress() as bar:
            summary = memory.import_dump(path, namespace=namespace, reembed=reembed, progress=_moving(bar, path.name)).to_dict()
        _json(summary) if as_json else out.print(_summary_table(f"imported {path} into {', '.join(summary['namespaces'])}", summary))


@app.command("copy")
def copy_cmd(
    source: str = typer.Option(..., "--from", help="Store to copy from (directory or bolt:// / neo4j:// URI)."),
    target: str = typer.Option(..., "--to", help="Store to copy into (directory or bolt:// / neo4j:// URI)."),
    namespace: str = NamespaceOpt,
    all_namespaces: bool = typer.Option(False, "--all-namespaces", help="Copy every namespace of the source store."),
    to_namespace: Optional[str] = typer.Option(None, "--to-namespace", help="Write the namespace under this name in the target."),
    from_user: Optional[str] = typer.Option(None, "--from-user", help="Bolt user of the source (default: $GRAPHMEM_NEO4J_USER)."),
    from_password: Optional[str] = typer.Option(None, "--from-password", help="Bolt password of the source."),
    from_database: Optional[str] = typer.Option(None, "--from-database", help="Neo4j database of the source."),
    to_user: Optional[str] = typer.Option(None, "--to-user", help="Bolt user of the target (default: $GRAPHMEM_NEO4J_USER)."),
    to_password: Optional[str] = typer.Option(None, "--to-password", help="Bolt password of the target."),
    to_database: Optional[str] = typer.Option(None, "--to-database", help="Neo4j database of the target."),
    as_json: bool = JsonOpt,
) -> None:
    """Copy a namespace (or all) from one store to another: export piped into import, with no file in between."""
    with _errors():
        if all_namespaces and to_namespace:
            raise InputError("--to-namespace applies to one namespace; drop --all-namespaces")
        with _open(source, namespace, from_user, from_password, from_database) as origin:
            if not all_namespaces:
                _require_namespace(origin)  # a mistyped namespace: exit 2, and no target store made for nothing
            with _open(target, to_namespace or namespace, to_user, to_password, to_database, create=True) as destination, \
                    _progress() as bar:
                summary = origin.copy_to(destination, all_namespaces=all_namespaces, namespace=to_namespace,
                                         progress=_moving(bar, "copy")).to_dict()
        _json(summary) if as_json else out.print(_summary_table(f"copied {source} -> {target}", summary))


class _OneLineLog(logging.Formatter):
    """A log record on one line: ``LEVEL logger: message (ErrorType: its message)``.

    A library warning that carries its exception (``exc_info``: "turn index unreadable ...;
    rebuilding", "its write failed too") printed the whole traceback, so a search that went on
    to answer looked like a crash; the neo4j driver's retry warnings ran over two lines each. The
    CLI says what happened in one line per record; the cause's type and words stay on it. An error
    record (``graphmem serve``'s failed request: a defect to look into) keeps its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno >= logging.ERROR:
            return super().format(record)
        kept = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            text = " ".join(super().format(record).split())
        finally:
            record.exc_info, record.exc_text, record.stack_info = kept
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            said = " ".join(str(exc).split())
            text += f" ({type(exc).__name__}: {said})" if said else f" ({type(exc).__name__})"
        return _visible(text)


def main() -> None:
    """Entry point of the ``graphmem`` console script.

    The CLI owns its process: SIGTERM, SIGINT and SIGHUP raise :class:`graphmem.signals.Interrupted`,
    so the transaction in progress commits or rolls back whole and the store is closed before
    the process prints "interrupted" and exits 143 (SIGTERM), 130 (SIGINT) or 129 (SIGHUP).
    """
    from graphmem.runtime import allow_gc_freeze
    from graphmem.signals import exit_after_stop, hold_stops_until_exit, received_stop, stop_in, stop_on_signals

    hold_stops_until_exit()  # a stop after the command's own handling, while the process exits, lets it finish
    allow_gc_freeze()  # the command owns its process: loaded models leave the cyclic collector (Settings.freeze_gc)
    root = logging.getLogger()
    if not root.handlers:  # (as logging.basicConfig: a caller's own logging set-up is left alone)
        handler = logging.StreamHandler()
        handler.setFormatter(_OneLineLog("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    try:
        with stop_on_signals():
            app()
    except SystemExit:
        raise
    except BaseException as exc:  # a stop, or an error a stop caused on its way up (a wrapped stop)
        stop = stop_in(exc) or received_stop()  # (one whose wrapper kept only the stop's text)
        if stop is None:
            raise
        try:
            err.print("interrupted")
        except OSError:  # the terminal is gone (SIGHUP): nothing can be told
            pass
        exit_after_stop(stop.exit_code)
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
