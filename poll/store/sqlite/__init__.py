"""The embedded store: one SQLite file, one server process.

schema.py    the tables, and the writer's connection (WAL)
writer.py    the server's side of the writer process: sends operations,
             resolves their callers' futures once committed
batches.py   the writer process: every operation waiting, one transaction,
             one commit
writes.py    the operations the writer runs (vote, update, purge, …)
reads.py     the queries of the read connection
shared.py    change signals and presence, shared per database file
store.py     SqliteStore: the contract's methods
"""

from poll.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
