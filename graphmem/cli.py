"""The ``graphmem`` command line. Only this module prints (with rich)."""

from __future__ import annotations

import json
import logging
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

from graphmem.errors import ClosedError, ConfigurationError, GraphmemError, InputError
from graphmem.hits import Hit
from graphmem.loaders import FORMATS
from graphmem.memory import Memory, has_search_terms
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

STORE_HELP = "Embedded store directory or bolt:// / neo4j:// URI (default: $GRAPHMEM_STORE or ~/.local/share/graphmem/store)."
StoreOpt = typer.Option(None, "--store", "-s", help=STORE_HELP)
NamespaceOpt = typer.Option("default", "--namespace", "-n", help="Namespace (tenant) to use.")
UserOpt = typer.Option(None, "--user", help="Bolt user (default: $GRAPHMEM_NEO4J_USER or neo4j).")
PasswordOpt = typer.Option(None, "--password", help="Bolt password (default: $GRAPHMEM_NEO4J_PASSWORD).")
DatabaseOpt = typer.Option(None, "--database", help="Neo4j database name (Bolt stores).")
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of tables.")


def _fail(message: str, code: int) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn graphmem errors into one-line messages and exit codes (2: input/config, 1: store)."""
    try:
        yield
    except (InputError, ConfigurationError) as exc:
        _fail(str(exc), 2)
    except ClosedError as exc:
        _fail(str(exc), 1)
    except GraphmemError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _open(store: Optional[str], namespace: str, user: Optional[str] = None, password: Optional[str] = None,
          database: Optional[str] = None) -> Memory:
    settings = Settings.from_env(neo4j_user=user, neo4j_password=password)
    auth = None
    if settings.neo4j_user or settings.neo4j_password:
        auth = (settings.neo4j_user or "neo4j", settings.neo4j_password or "")
    return Memory.open(store, namespace, settings=settings, auth=auth, database=database)


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err, transient=False)


def _ingest_with_progress(memory: Memory, paths: list[Path], fmt: str, conversation_id: Optional[str]) -> list[dict[str, Any]]:
    reports = []
    with _progress() as bar:
        for path in paths:
            task = bar.add_task(f"ingest {path.name}", total=None)

            def update(stage: str, done: int, total: int, task=task) -> None:
                bar.update(task, completed=done, total=total)

            report = memory.ingest(path, fmt, conversation_id=conversation_id, progress=update)
            bar.update(task, completed=report.turns_read, total=report.turns_read)
            reports.append(report.to_dict())
    return reports


def _print_report(report: dict[str, Any]) -> None:
    table = Table(title=f"ingested {', '.join(report['sources'])}", show_header=False)
    for key in ("conversations", "sessions", "turns_read", "turns_added", "units_embedded", "seconds"):
        table.add_row(key, str(report[key]))
    out.print(table)


def _print_hits(query: str, hits: list[Hit], explanations: list[str] | None = None) -> None:
    table = Table(title=f"[bold]{query}[/]", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("source", no_wrap=True)
    table.add_column("session", justify="right")
    table.add_column("speaker")
    table.add_column("text", overflow="fold")
    table.add_column("via")
    for i, hit in enumerate(hits, 1):
        via = hit.strategy
        parts = hit.explanation.get("contributions") if hit.explanation else None
        if hit.strategy == "auto" and parts:
            via += " (" + ", ".join(k for k, v in sorted(parts.items(), key=lambda kv: -kv[1])[:2]) + ")"
        table.add_row(str(i), f"{hit.score:.3f}", hit.source_id or hit.node_id[:16], str(hit.session_number or ""),
                      hit.speaker or "", hit.text, via)
    out.print(table)
    for i, text in enumerate(explanations or [], 1):
        out.print(f"[bold]#{i}[/]", highlight=False)
        out.print(text, markup=False, highlight=False)
        out.print()


def _json(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False, default=str))


@app.command()
def demo(store: Optional[str] = typer.Option(None, "--store", "-s", help="Directory for the demo store (default: a temporary directory, removed afterwards).")) -> None:
    """Ingest the bundled sample conversation into an embedded store and run a few searches."""
    with _errors(), tempfile.TemporaryDirectory(prefix="graphmem-demo-") as tmp:
        location = store or str(Path(tmp) / "store")
        with resources.as_file(resources.files("graphmem").joinpath("data", "sample_conversation.json")) as sample:
            out.print(f"[bold]graphmem demo[/]: embedded store at [cyan]{location}[/]")
            with _open(location, "demo") as memory:
                (report,) = _ingest_with_progress(memory, [sample], "auto", None)
                _print_report(report)
                for query in ("What is the name of Tom's dog?", "How did Priya do in the half marathon?",
                              "Where did Tom go hiking?", "What did Priya make in pottery class?"):
                    _print_hits(query, memory.search(query, k=3))
                stats = memory.stats()
                out.print("nodes:", stats["nodes"], "relationships:", stats["relationships"])


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files to ingest (LoCoMo JSON, JSONL chat, transcript, native JSON; .gz ok)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    fmt: str = typer.Option("auto", "--format", "-f", help=f"Input format: {'|'.join(FORMATS)}."),
    conversation_id: Optional[str] = typer.Option(None, "--conversation-id", help="Conversation key for JSONL/transcripts (default: file name)."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Ingest conversations. Every file is validated before anything of it is stored."""
    with _errors():
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        from graphmem.loaders import load

        for path in paths:  # validate everything first: a bad file stores nothing
            load(path, fmt, conversation_id)
        with _open(store, namespace, user, password, database) as memory:
            reports = _ingest_with_progress(memory, paths, fmt, conversation_id)
        if as_json:
            _json(reports)
        else:
            for report in reports:
                _print_report(report)


@app.command()
def search(
    query: str = typer.Argument(..., help="The question or keywords."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    k: int = typer.Option(10, "-k", "--k", min=1, help="Number of hits."),
    unit: str = typer.Option("turn", "--unit", "-u", help="turn|event|episode|session"),
    strategy: str = typer.Option("auto", "--strategy", help="auto|dense|lexical|activation|expansion"),
    since: Optional[str] = typer.Option(None, "--since", help="Only memories from this time on (ISO 8601 date or time)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only memories up to this time (ISO 8601 date or time)."),
    explain: bool = typer.Option(False, "--explain", help="Explain every hit: strategies, route, seeds, edges."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Search the memory and print the hits with their provenance (and, with --explain, why)."""
    with _errors():
        time_range = (since, until) if since or until else None
        with _open(store, namespace, user, password, database) as memory:
            started = time.perf_counter()
            hits = memory.search(query, k=k, unit=unit, strategy=strategy, time_range=time_range)
            elapsed = time.perf_counter() - started
            explanations = [memory.explain(h) for h in hits] if explain else []
        if as_json:
            _json([dict(h.to_dict(), **({"explanation_text": text} if explain else {})) for h, text in
                   zip(hits, explanations or [None] * len(hits))])
        else:
            _print_hits(query, hits, explanations)
            if not has_search_terms(query):
                err.print("no hits: the query has no letters or digits to search for")
            err.print(f"{len(hits)} hits in {elapsed * 1000:.1f} ms (first search of a process includes loading the caches)")


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
            data = memory.stats()
        if as_json:
            _json(data)
            return
        table = Table(title=f"{data['store']} · namespace {data['namespace']!r}")
        table.add_column("kind")
        table.add_column("name")
        table.add_column("count", justify="right")
        for label, count in data["nodes"].items():
            table.add_row("node", label, str(count))
        for rel, count in data["relationships"].items():
            table.add_row("relationship", rel, str(count))
        for granularity, count in data.get("topics", {}).items():
            table.add_row("topics", granularity, str(count))
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
            with err.status("refitting topics ..."):
                counts = memory.recluster()
        if as_json:
            _json(counts)
        else:
            out.print(_kv_table("topics per granularity", counts))


@app.command()
def forget(
    conversation: Optional[str] = typer.Option(None, "--conversation", help="Conversation key to forget (as ingested, e.g. a LoCoMo sample_id)."),
    session: Optional[str] = typer.Option(None, "--session", help="Session key within --conversation."),
    before: Optional[str] = typer.Option(None, "--before", help="Forget turns said before this ISO 8601 date or time."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Forget turns and everything derived only from them, in one transaction; the caches are rebuilt
    and the topics refitted, so what is forgotten never comes back from search. Criteria combine."""
    with _errors():
        from graphmem.forget import ForgetSelection, plan_forget

        selection = ForgetSelection.of(conversation, session, before)
        with _open(store, namespace, user, password, database) as memory:
            if not yes:
                preview = plan_forget(memory.store, memory.namespace, selection).counts
                if not preview["turns"]:
                    err.print("nothing matches; nothing forgotten")
                    return
                out.print(_kv_table(f"will forget in namespace {memory.namespace!r}", preview))
                try:
                    confirmed = typer.confirm("Forget these for good?", default=False, err=True)
                except typer.Abort:  # end of input
                    confirmed = False
                if not confirmed:
                    err.print("nothing forgotten")
                    raise typer.Exit(1)
            with err.status("forgetting ..."):
                counts = memory.forget(conversation, session, before)
        if as_json:
            _json(counts)
        else:
            out.print(_kv_table(f"forgotten in namespace {namespace!r}", counts))


@app.command()
def check(
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    all_namespaces: bool = typer.Option(False, "--all-namespaces", help="Check every namespace of the store."),
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Check integrity: no orphans, duplicates or links across namespaces in the graph; every ANN cache entry
    matches a stored node and embedding (caches that disagree are rebuilt). Exit code 1 when the graph has a problem."""
    with _errors():
        from graphmem.check import namespaces

        with _open(store, namespace, user, password, database) as memory:
            targets = namespaces(memory.store) if all_namespaces else [memory.namespace]
            reports = [memory.check(namespace=target) for target in targets]
        if as_json:
            _json([r.to_dict() for r in reports])
        else:
            for report in reports:
                table = Table(title=report.summary(), title_justify="left")
                for column in ("check", "count", "sample"):
                    table.add_column(column)
                for name, ids in report.problems.items():
                    table.add_row(name, str(len(ids)), ", ".join(ids[:3]))
                for unit, state in report.indexes.items():
                    action = " (rebuilt)" if state.rebuilt else ""
                    table.add_row(f"{unit} index", str(state.stored), f"{state.state}{action}")
                out.print(table)
        if not all(r.ok for r in reports):
            raise typer.Exit(1)


def _parse_param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise InputError(f"--param {text!r}: expected key=value")
    key, raw = text.split("=", 1)
    if not key.isidentifier():
        raise InputError(f"--param {text!r}: {key!r} is not a valid parameter name")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


@app.command()
def cypher(
    query: Optional[str] = typer.Argument(None, help="Cypher text (or use --file / --recipe)."),
    file: Optional[Path] = typer.Option(None, "--file", help="Run the Cypher in this file."),
    recipe: Optional[str] = typer.Option(None, "--recipe", help="Run a shipped inspection recipe by name (see --list)."),
    list_recipes: bool = typer.Option(False, "--list", help="List the shipped inspection recipes and exit."),
    param: list[str] = typer.Option([], "--param", "-p", help="Parameter key=value (value parsed as JSON when it can be)."),
    write: bool = typer.Option(False, "--write", help="Allow writes (run in a write transaction)."),
    store: Optional[str] = StoreOpt,
    namespace: str = NamespaceOpt,
    user: Optional[str] = UserOpt, password: Optional[str] = PasswordOpt, database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Run Cypher with parameters ($namespace is set for you)."""
    with _errors():
        from graphmem.resources import recipes

        if list_recipes:
            shipped = recipes()
            if as_json:
                _json([{"name": r.name, "description": r.description, "parameters": list(r.parameters),
                        "file": f"cypher/inspect/{r.name}.cypher"} for r in shipped])
                return
            table = Table("recipe", "answers", "parameters", title="inspection recipes (cypher/inspect/)", title_justify="left")
            for r in shipped:
                table.add_row(r.name, r.description, ", ".join(f"${p}" for p in r.parameters))
            out.print(table)
            return
        if sum(x is not None for x in (query, file, recipe)) != 1:
            raise InputError("give exactly one of QUERY, --file or --recipe")
        if recipe is not None:
            by_name = {r.name: r for r in recipes()}
            if recipe not in by_name:
                raise InputError(f"no recipe named {recipe!r}; see graphmem cypher --list")
            query = by_name[recipe].text
        if file is not None:
            try:
                query = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from exc
        params = dict(_parse_param(p) for p in param)
        with _open(store, namespace, user, password, database) as memory:
            rows = memory.cypher(query or "", params, write=write)
        if as_json:
            _json(rows)
            return
        columns = list(dict.fromkeys(k for row in rows for k in row))
        table = Table(*columns) if columns else Table("(no rows)")
        for row in rows:
            table.add_row(*(json.dumps(row.get(c), ensure_ascii=False, default=str) if not isinstance(row.get(c), str) else row[c] for c in columns))
        out.print(table)
        err.print(f"{len(rows)} row(s)")


eval_app = typer.Typer(help="Score retrieval on benchmark data (LoCoMo, LongMemEval).", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

DEFAULT_EVAL_STRATEGIES = ["bm25", "dense", "activation", "expansion", "auto"]


def _metric_table(title: str, report, ks=(1, 3, 5, 10)) -> Table:
    from graphmem.eval.harness import iter_metric_rows

    table = Table(title=title, title_justify="left")
    table.add_column("category")
    table.add_column("n", justify="right")
    for metric in ("R_all", "R_any", "NDCG"):
        for k in ks:
            table.add_column(f"{metric}@{k}", justify="right")
    for name, count, values in iter_metric_rows(report, ks):
        table.add_row(name, str(count), *(f"{v:.1f}" for v in values))
    return table


def _run_eval(cases, strategies: list[str], store: Optional[str], keep: bool, rankings: Optional[Path],
              json_out: Optional[Path], session_by: str, prefix: str) -> Any:
    from graphmem.eval.harness import run_evaluation

    strategies = strategies or DEFAULT_EVAL_STRATEGIES
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
                                    on_case_done=cleanup, on_case_timed=timed)
    wide = Console(width=max(out.width, 150))  # 14 numeric columns do not fit 80 characters
    for strategy, levels in result.reports.items():
        for level, report in levels.items():
            wide.print(_metric_table(f"{strategy} · {level} level", report))
    out.print(f"{result.questions} questions scored ({result.skipped} without usable evidence skipped); "
              f"ingest {result.ingest_seconds:.1f} s; query seconds per strategy: "
              + ", ".join(f"{k} {v:.1f}" for k, v in result.query_seconds.items()))
    if json_out:
        json_out.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
        err.print(f"metrics written to {json_out}")
    if rankings:
        err.print(f"rankings written to {rankings}")
    return result


@eval_app.command("locomo")
def eval_locomo(
    path: Path = typer.Argument(..., help="LoCoMo file (locomo10.json layout)."),
    strategy: list[str] = typer.Option([], "--strategy", help="Strategy to score (repeatable; default bm25, dense, activation, expansion, auto)."),
    rankings: Optional[Path] = typer.Option(None, "--rankings", help="Write one JSONL line per question and strategy."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics as JSON."),
    store: Optional[str] = typer.Option(None, "--store", "-s", help="Store to use (default: a temporary embedded store)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the evaluation namespaces (with --store)."),
) -> None:
    """Ingest each LoCoMo conversation into its own namespace, ask its questions, score R_all/R_any/NDCG@k."""
    with _errors():
        from graphmem.eval.locomo import locomo_cases

        _run_eval(locomo_cases(path), strategy, store, keep, rankings, json_out, "number", "eval-locomo")


bench_app = typer.Typer(help="Benchmarks that print measured figures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


def _kv_table(title: str, data: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    for key, value in data.items():
        table.add_row(key, json.dumps(value) if isinstance(value, (dict, list)) else str(value))
    return table


@bench_app.command("ingest")
def bench_ingest_cmd(
    path: Path = typer.Argument(..., help="Input to ingest (any supported format)."),
    runs: int = typer.Option(3, "--runs", min=1, help="Cold runs (fresh processes); the median-ratio run is shown."),
    as_json: bool = JsonOpt,
) -> None:
    """Ingest PATH into a fresh store and compare with embedding the same texts alone (one
    call, the model loaded beforehand), in RUNS cold processes; prints the median run."""
    with _errors():
        from graphmem.bench.ingest import bench_ingest_runs

        err.print(f"{runs} run(s): ingesting {path} into a fresh temporary store, then embedding the same texts alone ...")
        result = bench_ingest_runs(path, Settings.from_env(), runs, on_run=lambda n, r: err.print(
            f"  run {n}/{runs}: ingest {r['ingest_seconds']} s, embed alone {r['embed_alone_seconds']} s, ratio {r['ratio']}"))
        _json(result) if as_json else out.print(_kv_table(f"bench ingest {path.name}", result))


@bench_app.command("query")
def bench_query_cmd(
    sizes: str = typer.Option("10000,100000", "--sizes", help="Memory sizes in turns, comma-separated."),
    queries: int = typer.Option(100, "--queries", min=5, help="Timed queries per strategy and size."),
    strategy: list[str] = typer.Option([], "--strategy", help="Strategy to time (repeatable; default all)."),
    unit: str = typer.Option("turn", "--unit", "-u", help="turn|event|episode|session"),
    rebuild: bool = typer.Option(False, "--rebuild", help="Regenerate the synthetic memories even when cached."),
    as_json: bool = JsonOpt,
) -> None:
    """Query latency p50/p95 per strategy on synthetic memories (default 10k and 100k turns),
    query embedding and hydration included. Memories are generated once and cached under
    ~/.cache/graphmem/bench (the first run builds them: a few minutes)."""
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
                             say=lambda message: err.print(message, highlight=False))
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
            out.print(table)
            out.print(f"caches loaded in {sum(row['load_s'].values()):.1f} s {row['load_s']}; peak RSS {row['peak_rss_mb']:,.0f} MB"
                      + (f"; built in {sum(row['build_s'].values()):.0f} s {row['build_s']}" if row["build_s"] else ""),
                      highlight=False)


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
        table = Table(title=f"bench segment {path.name} (lower is better)", title_justify="left")
        for column in ("conversation", "turns", "sessions", "segments", "k", "Pk", "WindowDiff", "baseline Pk", "baseline WD",
                       "phase-avg baseline Pk", "phase-avg baseline WD"):
            table.add_column(column, justify="right")
        rows = result["conversations"] + [dict(result["mean"], conversation="mean", n="", k="")]
        for row in rows:
            table.add_row(str(row.get("conversation")), str(row.get("n")), f"{row['reference_segments']:g}", f"{row['segments']:g}",
                          str(row.get("k")), f"{row['segmenter']['pk']:.3f}", f"{row['segmenter']['window_diff']:.3f}",
                          f"{row['baseline']['pk']:.3f}", f"{row['baseline']['window_diff']:.3f}",
                          f"{row['baseline_phase_mean']['pk']:.3f}", f"{row['baseline_phase_mean']['window_diff']:.3f}")
        Console(width=max(out.width, 150)).print(table)


@eval_app.command("longmemeval")
def eval_longmemeval(
    path: Path = typer.Argument(..., help="LongMemEval file (longmemeval_s/_m/_oracle .json or .json.gz)."),
    strategy: list[str] = typer.Option([], "--strategy", help="Strategy to score (repeatable; default bm25, dense, activation, expansion, auto)."),
    rankings: Optional[Path] = typer.Option(None, "--rankings", help="Write one JSONL line per question and strategy."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the metrics as JSON."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Evaluate only the first N (non-abstention) questions."),
    store: Optional[str] = typer.Option(None, "--store", "-s", help="Store to use (default: a temporary embedded store)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the evaluation namespaces (with --store)."),
) -> None:
    """Ingest each question's haystack into its own namespace, ask it there, score sessions and turns."""
    with _errors():
        from graphmem.eval.longmemeval import longmemeval_cases

        cases, skipped = longmemeval_cases(path, limit)
        err.print(f"{len(cases)} questions to evaluate ({skipped} abstention questions skipped)")
        result = _run_eval(cases, strategy, store, keep, rankings, json_out, "key", "eval-longmemeval")
        if result.cases:
            per_question = sum(c["ingest_seconds"] + c["query_seconds"] for c in result.cases) / len(result.cases)
            out.print(f"{per_question:.1f} s per question (ingest and queries): 100 questions would take "
                      f"{per_question * 100 / 60:.1f} min at this speed")


def main() -> None:
    """Entry point of the ``graphmem`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except SystemExit:
        raise
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
