"""The `poll` command: check a sessions file, serve, export results.

    poll check [FILE]                 validate sessions.yaml and print its outline
    poll serve [--host ...] ...       run the server (console link printed at start)
    poll export ROOM [--summary | --leaderboard] ...  write a run's results as CSV
    poll export --session ID [--runs ...] [--format xlsx]  the runs of a session
    poll report ROOM [-o report.html] [--include-hidden]  write a run's results report
    poll purge --older-than DAYS      delete ended runs and their answers
    poll backup DEST                  copy the SQLite store, safely while it serves
    poll token [--rotate]             print the facilitator token, or make a new one

Every error a user can meet is one clear line (or a list of script problems),
never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from poll.proxies import ProxyIpsError, parse_proxy_ips, uvicorn_proxy_options
from poll.script import Script, ScriptError, load_script
from poll.settings import DEFAULT_STORE, ENV, Settings, SettingsError

if TYPE_CHECKING:
    from poll.rooms import RoomState
    from poll.store.base import Store

#: Largest websocket frame uvicorn accepts (bytes).
WS_MAX_SIZE = 64 * 1024


def _print_outline(script: Script, out: TextIO) -> None:
    for session in script.sessions.values():
        questions = len(session.questions)
        out.write(
            f"{session.id}: {session.title} ({session.language}, "
            f"{len(session.items)} items, {questions} questions)\n"
        )
        width = max(len(item.id) for item in session.items)
        kind = max(7, *(len(item.type_name) for item in session.items))
        for index, item in enumerate(session.items):
            title = item.title if len(item.title) <= 60 else item.title[:59] + "…"
            out.write(f"  {index + 1:>3}  {item.type_name:<{kind}} {item.id:<{width}}  {title}\n")
    for note in script.notes:
        out.write(f"note: {note}\n")


def cmd_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        script = load_script(path)
    except ScriptError as exc:
        count = len(exc.problems)
        sys.stderr.write(f"{path}: {count} problem{'s' if count != 1 else ''}:\n")
        for problem in exc.problems:
            sys.stderr.write(f"  {problem}\n")
        return 1
    _print_outline(script, sys.stdout)
    sys.stdout.write(f"{path} is valid: {len(script.sessions)} session(s).\n")
    return 0


def _fail(message: str) -> int:
    sys.stderr.write(f"poll: {message}\n")
    return 1


def _settings_from_args(args: argparse.Namespace) -> Settings:
    env = Settings.from_env()
    proxy_ips = env.proxy_ips
    if args.proxy_ips is not None:
        try:
            proxy_ips = parse_proxy_ips(args.proxy_ips)
        except ProxyIpsError as exc:
            raise SettingsError(f"--proxy-ips: {exc}") from None
    return Settings(
        store=args.store or env.store,
        sessions=Path(args.sessions) if args.sessions else env.sessions,
        data_dir=Path(args.data_dir) if args.data_dir else env.data_dir,
        public_url=(args.public_url or env.public_url or None),
        host=args.host or env.host,
        port=args.port if args.port is not None else env.port,
        workers=args.workers if args.workers is not None else env.workers,
        token=env.token,
        proxy_ips=proxy_ips,
    )


def _port_free(host: str, port: int) -> str | None:
    """None if the port can be bound, else why not (checked before uvicorn starts,
    so the message is one line rather than uvicorn's log and traceback)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} is already in use; stop the other server or use --port"
            if exc.errno == errno.EACCES:
                return f"not allowed to use port {port}; use a port above 1023"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None


async def _check_store(url: str) -> str | None:
    from poll.store import StoreError, open_store

    try:
        store = open_store(url)
        await store.open()
    except StoreError as exc:
        return f"cannot open the store {url}: {exc}"
    except OSError as exc:
        return f"cannot open the store {url}: {exc.strerror or exc}"
    await store.close()
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        settings = _settings_from_args(args)
    except SettingsError as exc:
        return _fail(str(exc))
    if settings.workers < 1:
        return _fail("--workers must be 1 or more")
    if settings.workers > 1 and not settings.store.startswith(("redis://", "rediss://", "unix://")):
        return _fail(
            f"{settings.workers} workers need a shared store: the embedded SQLite store "
            "serves one process. Use --store redis://HOST:6379/0, or --workers 1."
        )
    try:
        load_script(settings.sessions)
    except ScriptError as exc:
        sys.stderr.write(f"poll: cannot start: {settings.sessions} has problems:\n")
        for problem in exc.problems:
            sys.stderr.write(f"  {problem}\n")
        return 1
    if settings.store.startswith("sqlite:///"):
        # The default store lives under the current directory: create its folder.
        db = settings.store.removeprefix("sqlite:///").split("?")[0]
        if db and not db.startswith(":"):
            try:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return _fail(f"cannot create the folder for {db}: {exc.strerror}")
    unusable = asyncio.run(_check_store(settings.store)) or _port_free(settings.host, settings.port)
    if unusable:
        return _fail(unusable)

    from poll.token import TOKEN_FILE, TokenError, load_or_create_token
    from poll.web.connections import configured_per_address, raise_open_file_limit
    from poll.web.network import is_local_host, lan_address

    try:
        token = load_or_create_token(settings.data_dir, settings.token)
        configured_per_address()
    except (TokenError, ValueError) as exc:
        return _fail(str(exc))
    os.environ.update(settings.to_env())

    local_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    console = f"http://{local_host}:{settings.port}/console?token={token}"
    if settings.public_url:
        phones = settings.public_url
        how = "(the public URL you set)"
    else:
        lan = lan_address()
        reachable = settings.host in ("0.0.0.0", "::") or not is_local_host(settings.host)
        if lan and reachable:
            phones = f"http://{lan}:{settings.port}"
            how = "(this machine's LAN address; set --public-url if phones reach it another way)"
        else:
            phones = f"http://{local_host}:{settings.port}"
            how = (
                "(WARNING: phones cannot reach this address; serve on --host 0.0.0.0 "
                "or set --public-url)"
            )
    print(f"poll is starting with {settings.sessions} and store {settings.store}")
    print()
    if sys.stdout.isatty():
        print("  Facilitator console (keep this link to yourself):")
        print(f"    {console}")
    else:
        # Standard output is a log here (systemd's journal, docker logs, a file):
        # the token would stay in it, readable by whoever reads logs.
        where = ENV["token"] if settings.token else str(settings.data_dir / TOKEN_FILE)
        print(f"  Facilitator console: {console.split('?', 1)[0]}")
        print(f"    (sign in with the token in {where})")
    print()
    print(f"  Phones join at {phones}")
    print(f"    {how}")
    print()
    before, files = raise_open_file_limit()
    raised = f" (raised from {before})" if files > before else ""
    print(f"  File limit: up to {files}{raised}; see docs/security.md for connection limits")
    print()
    sys.stdout.flush()

    import uvicorn

    from poll.web.logs import private_log_config

    uvicorn.run(
        "poll.web.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        # uvicorn's own protocols, with time limits on request headers and bodies,
        # per-address caps and a reserve for the facilitator (poll/web/connections.py).
        http="poll.web.connections:GuardedHttpProtocol",
        ws="poll.web.connections:GuardedWebSocketProtocol",
        ws_per_message_deflate=False,
        # poll pings every socket itself, in one sweep (poll/live.py, Hub.heartbeat),
        # and closes the silent ones; uvicorn's own pings would be a second timer
        # per socket for the same job.
        ws_ping_interval=None,
        timeout_graceful_shutdown=5,
        # X-Forwarded-For/-Proto only from the proxies named by --proxy-ips.
        **uvicorn_proxy_options(settings.proxy_ips),
        # No `server: uvicorn` banner: it tells a scanner which exploits to try.
        server_header=False,
        # Frames beyond this are refused by the protocol layer before poll reads
        # them (uvicorn's default is 16 MiB); poll's own limits are a few KiB.
        ws_max_size=WS_MAX_SIZE,
        log_level=args.log_level,
        # Access logs would hold every phone's IP address: off unless asked for,
        # and then without addresses or query strings (see poll/web/logs.py).
        access_log=args.access_log,
        log_config=private_log_config(args.log_level, access_log=args.access_log),
    )
    return 0


async def _export(args: argparse.Namespace, out: BinaryIO) -> int:
    from poll.export import Kind, write_csv
    from poll.rooms import Rooms
    from poll.session_export import write_session_csv
    from poll.store import StoreError, open_store
    from poll.workbook import build_workbook

    sep = ";" if args.sep in (";", "semicolon") else args.sep
    if len(sep) != 1:
        return _fail("--sep must be one character, like ';' or ','")
    if args.room is None and args.session is None:
        return _fail("name a run (ROOM_CODE_OR_ID) or a session (--session SESSION_ID)")
    if args.room is not None and args.session is not None:
        return _fail("name a run or --session, not both")
    if args.runs and args.session is None:
        return _fail("--runs chooses among the runs of --session SESSION_ID")
    try:
        store = open_store(args.store)
        await store.open()
    except StoreError as exc:
        return _fail(f"cannot open the store {args.store}: {exc}")
    try:
        rooms = Rooms(store, _no_script)
        states = await rooms.list()  # newest first: a reused code means the latest run
        if args.session is not None:
            chosen = _session_runs(states, args.session, args.runs or [], args.store)
            if isinstance(chosen, str):
                return _fail(chosen)
            ids = chosen
        else:
            found = _find_run(states, args.room.strip())
            if found is None:
                return _fail(
                    f"no run with code or id {args.room.strip()!r} in {args.store}; "
                    "see the console's list of runs, or give --store"
                )
            ids = [found]
        runs = [await rooms.get(room_id) for room_id in ids]
        kind: Kind = "summary" if args.summary else "standings" if args.leaderboard else "answers"
        if args.format == "xlsx":
            out.write(await build_workbook(runs))
        elif args.session is not None:
            await write_session_csv(runs, out, kind=kind, sep=sep)
        else:
            await write_csv(runs[0], out, kind=kind, sep=sep)
        out.flush()
        return 0
    finally:
        await store.close()


def _find_run(states: Sequence[RoomState], wanted: str) -> str | None:
    from poll.rooms import normalize_code

    code = normalize_code(wanted)
    for state in states:
        if state.id == wanted or (code is not None and state.code == code):
            return state.id
    return None


def _session_runs(
    states: Sequence[RoomState], session_id: str, wanted: Sequence[str], store: str
) -> list[str] | str:
    """The ids of the session's runs named in `wanted` (all of them when empty),
    or why they cannot be exported."""
    own = [state for state in states if state.session_id == session_id]
    if not own:
        known = sorted({state.session_id for state in states})
        hint = f"; sessions with runs: {', '.join(known)}" if known else ""
        return f"no runs of session {session_id!r} in {store}{hint}"
    if not wanted:
        return [state.id for state in own]
    ids: list[str] = []
    for name in wanted:
        found = _find_run(own, name.strip())
        if found is None:
            return f"session {session_id!r} has no run with code or id {name!r}"
        if found not in ids:
            ids.append(found)
    return ids


async def _report(args: argparse.Namespace, out: BinaryIO) -> int:
    from poll.report import build_report
    from poll.rooms import Rooms
    from poll.store import StoreError, open_store
    from poll.web.report import render_report

    try:
        store = open_store(args.store)
        await store.open()
    except StoreError as exc:
        return _fail(f"cannot open the store {args.store}: {exc}")
    try:
        rooms = Rooms(store, _no_script)
        wanted = args.room.strip()
        # Newest first: a reused code means the latest run.
        found = _find_run(await rooms.list(), wanted)
        if found is None:
            return _fail(
                f"no run with code or id {wanted!r} in {args.store}; "
                "see the console's list of runs, or give --store"
            )
        room = await rooms.get(found)
        report = await build_report(room, include_hidden=args.include_hidden)
        out.write(render_report(report).encode("utf-8"))
        out.flush()
        return 0
    except StoreError as exc:
        return _fail(f"the store failed: {exc}")
    finally:
        await store.close()


def _write_to(output: str | None, write: Callable[[BinaryIO], Coroutine[Any, Any, int]]) -> int:
    """Run `write` into standard output (None or "-") or into the file `output`, which
    is removed again when writing fails: no half-written or empty file left behind."""
    if output in (None, "-"):
        return asyncio.run(write(sys.stdout.buffer))
    assert output is not None
    try:
        out = open(output, "wb")  # noqa: SIM115 - closed below, also on failure
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror}")
    with out:
        code = asyncio.run(write(out))
    if code == 0:
        sys.stderr.write(f"wrote {output}\n")
    else:
        os.unlink(output)
    return code


def cmd_report(args: argparse.Namespace) -> int:
    return _write_to(args.output, lambda out: _report(args, out))


async def _purge(store_url: str, days: float, yes: bool) -> int:
    from poll.store import StoreError, open_store

    try:
        store = open_store(store_url)
        await store.open()
    except StoreError as exc:
        return _fail(f"cannot open the store {store_url}: {exc}")
    try:
        return await purge_runs(store, days, yes=yes, now=datetime.now(UTC))
    except StoreError as exc:
        return _fail(f"the store failed: {exc}")
    finally:
        await store.close()


async def purge_runs(store: Store, days: float, *, yes: bool, now: datetime) -> int:
    """Delete the runs that ended more than `days` ago, with all their answers."""
    cutoff = now - timedelta(days=days)
    old = [run for run in await store.rooms() if run.ended_at is not None and run.ended_at < cutoff]
    if not old:
        sys.stdout.write(f"no runs ended before {cutoff:%Y-%m-%d %H:%M} UTC; nothing to delete\n")
        return 0
    for run in old:
        sys.stdout.write(
            f"  {run.code}  {run.session_id}  ended {run.ended_at:%Y-%m-%d %H:%M} UTC  ({run.id})\n"
        )
    if not yes:
        if not sys.stdin.isatty():
            return _fail(f"{len(old)} run(s) would be deleted; add --yes to delete them")
        question = f"Delete these {len(old)} run(s) and all their answers? [y/N] "
        answer = await asyncio.to_thread(input, question)
        if answer.strip().lower() not in ("y", "yes", "j", "ja"):
            sys.stdout.write("nothing deleted\n")
            return 1
    purged = await store.purge(cutoff)
    sys.stdout.write(f"deleted {len(purged)} run(s) and their answers\n")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    if args.older_than < 0:
        return _fail("--older-than must be 0 or more days")
    return asyncio.run(_purge(args.store, args.older_than, args.yes))


def cmd_backup(args: argparse.Namespace) -> int:
    from poll.store import StoreError, backup_store

    try:
        report = backup_store(args.store, Path(args.dest), overwrite=args.force)
    except StoreError as exc:
        return _fail(str(exc))
    size = f"{report.size / 1_000_000:.1f} MB" if report.size >= 100_000 else f"{report.size} bytes"
    sys.stdout.write(
        f"backed up {report.source} to {report.dest}: {report.runs} run(s), "
        f"{report.answers} answer(s), {size}\n"
    )
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """Print the facilitator token; with --rotate, write a new one and sign out
    every console (the running servers read the new file at the next sign-in)."""
    from poll.token import TokenError, load_or_create_token, rotate_token, token_path

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        return _fail(str(exc))
    data_dir = Path(args.data_dir) if args.data_dir else settings.data_dir
    if settings.token:
        return _fail(
            f"the token comes from {ENV['token']}, not from a file: set a new value there"
            " and restart every server (that signs every console out)"
        )
    try:
        if not args.rotate:
            sys.stdout.write(load_or_create_token(data_dir) + "\n")
            return 0
        token = rotate_token(data_dir)
    except TokenError as exc:
        return _fail(str(exc))
    sys.stderr.write(f"wrote a new token to {token_path(data_dir)}\n")
    code = asyncio.run(_end_console_sessions(args.store or settings.store))
    sys.stdout.write(token + "\n")
    return code


async def _end_console_sessions(store_url: str) -> int:
    from poll.store import StoreError, open_store

    try:
        store = open_store(store_url)
        await store.open()
    except StoreError as exc:
        return _fail(
            f"cannot open the store {store_url} ({exc}): the new token is in place, but"
            " consoles signed in with the old one stay signed in; run this again with --store"
        )
    try:
        await store.end_console_sessions()
    except StoreError as exc:
        return _fail(f"the store failed ({exc}); consoles signed in before stay signed in")
    finally:
        await store.close()
    sys.stderr.write("every console signed in with the old token is signed out\n")
    return 0


def _no_script() -> Script:
    raise ScriptError([])  # exporting reads each room's own copy, never the script


def cmd_export(args: argparse.Namespace) -> int:
    if args.format == "xlsx" and args.output in (None, "-") and sys.stdout.isatty():
        return _fail("a workbook is not for the terminal: give -o FILE.xlsx")
    return _write_to(args.output, lambda out: _export(args, out))


def _store_option(command: argparse.ArgumentParser) -> None:
    """The `--store URL` every command that reads the store takes."""
    command.add_argument(
        "--store",
        default=os.environ.get(ENV["store"], DEFAULT_STORE),
        help=f"store URL (default {DEFAULT_STORE}; {ENV['store']})",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="poll", description="Self-hosted live polling for facilitated sessions."
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="check a sessions file and print its outline")
    check.add_argument("file", nargs="?", default=os.environ.get(ENV["sessions"], "sessions.yaml"))
    check.set_defaults(func=cmd_check)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", help=f"address to listen on (default 0.0.0.0; {ENV['host']})")
    serve.add_argument("--port", type=int, help=f"port (default 8000; {ENV['port']})")
    serve.add_argument("--store", help=f"store URL (default {DEFAULT_STORE}; {ENV['store']})")
    serve.add_argument(
        "--sessions", help=f"sessions file (default sessions.yaml; {ENV['sessions']})"
    )
    serve.add_argument(
        "--public-url", help=f"address phones use, for the QR code ({ENV['public_url']})"
    )
    serve.add_argument(
        "--workers", type=int, help=f"worker processes; >1 needs Redis ({ENV['workers']})"
    )
    serve.add_argument(
        "--data-dir",
        help=f"where the facilitator token is kept (default poll-data; {ENV['data_dir']})",
    )
    serve.add_argument(
        "--proxy-ips",
        metavar="IPS",
        help=(
            "reverse proxies to believe X-Forwarded-For/-Proto from: comma-separated "
            f"addresses or networks, like 127.0.0.1 (default none; {ENV['proxy_ips']})"
        ),
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (method, path without query, status; never IP addresses)",
    )
    serve.set_defaults(func=cmd_serve)

    export = sub.add_parser(
        "export", help="write a run's results (or a session's runs) as CSV or an Excel workbook"
    )
    export.add_argument("room", metavar="ROOM_CODE_OR_ID", nargs="?")
    export.add_argument(
        "--session", metavar="SESSION_ID", help="every run of this session, with a run column"
    )
    export.add_argument(
        "--runs", nargs="+", metavar="ID", help="with --session: only these runs (codes or ids)"
    )
    export.add_argument(
        "--format",
        choices=["csv", "xlsx"],
        default="csv",
        help=(
            "csv (default), or xlsx: one workbook with a summary sheet, a sheet per question "
            "and the standings (--summary and --leaderboard are for CSV)"
        ),
    )
    which = export.add_mutually_exclusive_group()
    which.add_argument("--summary", action="store_true", help="counts per option, not every answer")
    which.add_argument(
        "--leaderboard", action="store_true", help="the quiz players' standings, one row each"
    )
    export.add_argument("--sep", default=",", help="separator: ',' (default) or ';' for Excel (nl)")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    _store_option(export)
    export.set_defaults(func=cmd_export)

    report = sub.add_parser(
        "report",
        help="write a run's results report: one HTML file to share, or print to PDF",
    )
    report.add_argument("room", metavar="ROOM_CODE_OR_ID")
    report.add_argument("-o", "--output", help="file to write (default: standard output)")
    report.add_argument(
        "--include-hidden",
        action="store_true",
        help="include the texts hidden during the session, marked (not for participants)",
    )
    _store_option(report)
    report.set_defaults(func=cmd_report)

    purge = sub.add_parser(
        "purge", help="delete runs that ended more than DAYS ago, with all their answers"
    )
    purge.add_argument("--older-than", type=float, required=True, metavar="DAYS")
    purge.add_argument("--yes", action="store_true", help="delete without asking")
    _store_option(purge)
    purge.set_defaults(func=cmd_purge)

    backup = sub.add_parser(
        "backup", help="copy the SQLite store to DEST, safely while the server runs"
    )
    backup.add_argument("dest", metavar="DEST", help="a file, or a folder for a dated file")
    backup.add_argument("--force", action="store_true", help="replace DEST if it exists")
    _store_option(backup)
    backup.set_defaults(func=cmd_backup)

    token = sub.add_parser(
        "token", help="print the facilitator token; --rotate makes a new one and signs out"
    )
    token.add_argument(
        "--rotate",
        action="store_true",
        help="write a new token and sign out every console signed in with the old one",
    )
    token.add_argument(
        "--data-dir", help=f"where the token is kept (default poll-data; {ENV['data_dir']})"
    )
    token.add_argument("--store", help=f"store URL (default {DEFAULT_STORE}; {ENV['store']})")
    token.set_defaults(func=cmd_token)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `poll check | head`: the reader went away; nothing left to say to it.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until exit
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
