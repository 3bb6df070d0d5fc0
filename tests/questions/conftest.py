"""Question-type tests run their rules on every store: reuse the store contract's fixtures."""

from tests.store.conftest import backend, store

__all__ = ["backend", "store"]
