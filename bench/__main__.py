"""`python -m bench COMMAND`: the benchmarks of poll.

python -m bench load --participants N [--question TYPE] [--reconnect-storm] [...]
                                              live load: join, vote burst, fan-out, on
                                              a question of TYPE (default yesno; the
                                              types: `python -m bench load --help`);
                                              --reconnect-storm: every phone drops and
                                              reconnects within 5 s, mid-question
python -m bench snapshot [...]                cost of one phone's fresh snapshot with its own
                                              answers, at 1,000 and 10,000 stored answers
python -m bench table [...]                   every row of docs/performance.md, and the plot
python -m bench votes [...]                   store throughput (also `python -m bench.votes`)
python -m bench durability [...]              votes/s with appendfsync always/everysec and
                                              SQLite synchronous FULL/NORMAL
python -m bench screens [...]                 CPU of server-rendered screens per snapshot, phone
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "load":
        from bench import load

        return load.main(rest)
    if command == "table":
        from bench import table

        return table.main(rest)
    if command == "votes":
        import asyncio

        from bench import votes

        return asyncio.run(votes.main(rest))
    if command == "durability":
        import asyncio

        from bench import durability

        return asyncio.run(durability.main(rest))
    if command == "snapshot":
        import asyncio

        from bench import snapshot

        return asyncio.run(snapshot.main(rest))
    if command == "screens":
        from bench import screens

        return screens.main(rest)
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
