"""The report's tests run the sample session on every store: reuse the contract's fixtures."""

from tests.store.conftest import backend, store

__all__ = ["backend", "store"]
