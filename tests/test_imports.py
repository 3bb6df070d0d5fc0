"""poll's imports point down: no cycle and no upward import, type-only ones included.

Every module under poll/ is read with `ast` (nothing is imported), and every
import counts: at the top, under `if TYPE_CHECKING:` and inside functions. A
type-only cycle is still a cycle: it ties two modules together for anyone who
reads, checks or moves them.

The layers, top to bottom, are in `LAYERS`; a module may import its own layer
or any lower one, never a higher one nor a sibling of the same rank (the item
types and the stores know nothing of each other). A few narrower rules hold on
top of that: the web layer reaches the store only through `poll.rooms`, the
command line takes from the web layer only what `poll serve` prints, and only
the store package's `open_store` loads a store driver.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Rank and prefixes of each layer, top to bottom. A module belongs to the
#: layer of its longest matching prefix.
LAYERS: dict[str, tuple[int, tuple[str, ...]]] = {
    "command line": (8, ("poll.cli",)),
    "web": (7, ("poll.web",)),
    "live hub": (6, ("poll.live",)),
    "results": (
        5,
        ("poll.export", "poll.session_export", "poll.workbook", "poll.compare", "poll.report"),
    ),
    "rooms": (4, ("poll.rooms", "poll.standings")),
    "script": (3, ("poll.script",)),
    # Siblings: an item type never imports a store, a store never an item type.
    "item types": (2, ("poll.questions",)),
    "stores": (2, ("poll.store",)),
    # Small helpers that import nothing above them (and `poll` itself, empty).
    "leaves": (
        1,
        (
            "poll",
            "poll.answers",
            "poll.bounded",
            "poll.cancel",
            "poll.i18n",
            "poll.media",
            "poll.meter",
            "poll.protocol",
            "poll.proxies",
            "poll.settings",
            "poll.spec",
            "poll.text",
            "poll.theme",
            "poll.token",
        ),
    ),
}

#: Outside poll/store, the modules that may import it. Rooms is the store's one
#: client; the app factory and the command line open a store from its URL
#: (wiring, and `poll purge`), and the app's state keeps it to close it at
#: shutdown. Everything else asks a `Room`.
STORE_CLIENTS = frozenset({"poll.rooms", "poll.web.app", "poll.web.state", "poll.cli"})

#: What the command line may take from the web layer: what `poll serve` prints
#: (the addresses phones reach, the open-file limit it raises), the private access
#: log and the guarded protocols it hands to uvicorn, which imports the app itself
#: by name, and the report page `poll report` writes (the same page the console shows).
CLI_WEB_IMPORTS = frozenset(
    {"poll.web.connections", "poll.web.logs", "poll.web.network", "poll.web.report"}
)

#: Store drivers: only the package (`poll.store`, its `open_store`) imports them,
#: inside a function, so that reading the contract loads no driver.
STORE_DRIVERS = frozenset({"poll.store.redis", "poll.store.sqlite"})


@dataclass(frozen=True)
class Edge:
    """`importer` imports `imported` at `file:line`; `lazy`: inside a function."""

    importer: str
    imported: str
    file: str
    line: int
    lazy: bool

    def __str__(self) -> str:
        where = " (inside a function)" if self.lazy else ""
        return f"{self.file}:{self.line}: {self.importer} imports {self.imported}{where}"


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module `name` loads: itself, or its longest known parent."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _function_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes that sit inside a function body."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            inside.update(id(sub) for sub in ast.walk(node) if sub is not node)
    return inside


def _targets(node: ast.Import | ast.ImportFrom, own_package: str, modules: set[str]) -> list[str]:
    """The full names an import statement asks for (relative ones made absolute)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = own_package.split(".")
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    # `from poll.web import console` loads the module poll.web.console.
    return [
        f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
        for alias in node.names
    ]


def scan(root: Path, package: str = "poll") -> Graph:
    """Read every module of `package` under `root` and resolve its imports."""
    graph = Graph()
    for path in sorted((root / package).rglob("*.py")):
        graph.modules[module_name(path, root)] = path
    names = set(graph.modules)
    for module, path in graph.modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        lazy = _function_nodes(tree)
        own_package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        file = str(path.relative_to(root))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(node, own_package, names):
                if target != package and not target.startswith(package + "."):
                    continue
                imported = _known(target, graph.modules)
                if imported is None or imported == module:
                    continue
                edge = Edge(module, imported, file, node.lineno, id(node) in lazy)
                if edge not in graph.edges:
                    graph.edges.append(edge)
    return graph


def layer_of(module: str) -> str | None:
    best: tuple[int, str] | None = None
    for layer, (_rank, prefixes) in LAYERS.items():
        for prefix in prefixes:
            # `poll` alone is the package's own (empty) __init__, not all of poll.
            matches = module == prefix if prefix == "poll" else _in(module, prefix)
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), layer)
    return best[1] if best else None


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def rule_broken(edge: Edge) -> str | None:
    """Why `edge` is not allowed, or None."""
    src, dst = edge.importer, edge.imported
    src_layer, dst_layer = layer_of(src), layer_of(dst)
    if src_layer is None or dst_layer is None:
        return None  # reported once, as a module without a layer
    if src_layer != dst_layer:
        src_rank, dst_rank = LAYERS[src_layer][0], LAYERS[dst_layer][0]
        if dst_rank > src_rank:
            return f"upward: {src_layer} (rank {src_rank}) imports {dst_layer} (rank {dst_rank})"
        if dst_rank == src_rank:
            return f"sideways: {src_layer} imports its sibling layer {dst_layer}"
    if _in(dst, "poll.store") and not _in(src, "poll.store") and src not in STORE_CLIENTS:
        return "only rooms talk to the store: use the Room (or a name poll.rooms exports)"
    if src == "poll.cli" and _in(dst, "poll.web") and dst not in CLI_WEB_IMPORTS:
        return "the command line takes from the web layer only what `poll serve` prints"
    if dst in STORE_DRIVERS and not (src == "poll.store" and edge.lazy):
        return "only poll.store's open_store imports a store driver, inside the function"
    return None


def _groups(out: Mapping[str, list[Edge]]) -> list[set[str]]:
    """Tarjan's strongly connected components: modules that all reach one another."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for edge in out.get(node, []):
            nxt = edge.imported
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            groups.append(group)

    for node in sorted(out):
        if node not in index:
            visit(node)
    return groups


def cycles(edges: Iterable[Edge]) -> list[tuple[list[Edge], set[str]]]:
    """One shortest cycle for each group of modules that import one another, and the group."""
    out: dict[str, list[Edge]] = {}
    for edge in edges:
        out.setdefault(edge.importer, []).append(edge)
    found: list[tuple[list[Edge], set[str]]] = []
    for group in _groups(out):
        if len(group) < 2:
            continue
        # Breadth first from the group's first module back to it: a shortest cycle.
        start = min(group)
        paths: dict[str, list[Edge]] = {start: []}
        queue = [start]
        while queue:
            here = queue.pop(0)
            back = [edge for edge in out[here] if edge.imported == start]
            if back:
                found.append(([*paths[here], back[0]], group))
                break
            for edge in out[here]:
                if edge.imported in group and edge.imported not in paths:
                    paths[edge.imported] = [*paths[here], edge]
                    queue.append(edge.imported)
    return sorted(found, key=lambda item: item[0][0].importer)


def problems(graph: Graph) -> list[str]:
    """Every broken rule and every cycle, spelled out."""
    edges = list(graph.edges)
    report = [
        f"{module} has no layer; add it to LAYERS in tests/test_imports.py"
        for module in graph.modules
        if layer_of(module) is None
    ]
    for edge in edges:
        why = rule_broken(edge)
        if why is not None:
            report.append(f"{edge}: {why}")
    for cycle, group in cycles(edges):
        chain = " → ".join([cycle[0].importer, *(edge.imported for edge in cycle)])
        steps = "".join(f"\n    {edge}" for edge in cycle)
        others = sorted(group - {edge.importer for edge in cycle})
        tangled = f"\n    (tangled with these too: {', '.join(others)})" if others else ""
        report.append(f"cycle: {chain}{steps}{tangled}")
    return report


# The real graph ------------------------------------------------------------


def test_the_import_graph_points_down() -> None:
    found = problems(scan(ROOT))
    assert not found, "poll's import graph breaks its layers:\n" + "\n".join(found)


# The checker itself, on small made-up packages -----------------------------


def make_package(root: Path, files: Mapping[str, str]) -> Path:
    """Write `files` (path → source) as a package under `root`, with every __init__.py."""
    for name, source in files.items():
        path = root / name
        for parent in path.relative_to(root).parents:
            if parent != Path("."):
                init = root / parent / "__init__.py"
                init.parent.mkdir(parents=True, exist_ok=True)
                if not init.exists():
                    init.write_text("", encoding="utf-8")
        path.write_text(source, encoding="utf-8")
    return root


def found_in(tmp_path: Path, files: Mapping[str, str]) -> list[str]:
    return problems(scan(make_package(tmp_path, files)))


def test_a_clean_graph_has_no_problems(tmp_path: Path) -> None:
    assert (
        found_in(
            tmp_path,
            {
                "poll/text.py": "",
                "poll/spec.py": "from poll.text import x\n",
                "poll/questions/base.py": "from poll.spec import SpecReader\n",
                "poll/questions/yesno.py": "from .base import Item\nfrom . import base\n",
                "poll/script.py": "from poll.questions import yesno\n",
                "poll/store/__init__.py": (
                    "from poll.store.base import Store\n"
                    "def open_store(url):\n    from poll.store.sqlite import SqliteStore\n"
                ),
                "poll/store/base.py": "from poll.answers import Answer\n",
                "poll/store/sqlite.py": "from poll.store.base import Store\n",
                "poll/answers.py": "",
                "poll/rooms.py": (
                    "from poll.store.base import Store\nfrom poll.script import load\n"
                ),
                "poll/web/voting.py": "from poll.rooms import Room, StoreError\n",
                "poll/web/network.py": "",
                "poll/cli.py": "def serve():\n    from poll.web.network import lan_address\n",
            },
        )
        == []
    )


def test_a_type_only_cycle_is_a_cycle(tmp_path: Path) -> None:
    found = found_in(
        tmp_path,
        {
            "poll/script.py": "from poll.questions.base import Item\n",
            "poll/questions/base.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from poll.script import SpecReader\n"
            ),
        },
    )
    cycle = [line for line in found if line.startswith("cycle:")]
    assert cycle and cycle[0].splitlines()[0] == (
        "cycle: poll.questions.base → poll.script → poll.questions.base"
    )
    assert "poll/questions/base.py:3: poll.questions.base imports poll.script" in cycle[0]
    # ...and the type-only import is also upward: item types sit below the script.
    assert any("upward: item types (rank 2) imports script (rank 3)" in line for line in found)


def test_an_import_inside_a_function_counts(tmp_path: Path) -> None:
    found = found_in(
        tmp_path,
        {
            "poll/text.py": "def f():\n    from poll.spec import x\n",
            "poll/spec.py": "from poll.text import y\n",
        },
    )
    assert found == [
        "cycle: poll.spec → poll.text → poll.spec"
        "\n    poll/spec.py:1: poll.spec imports poll.text"
        "\n    poll/text.py:2: poll.text imports poll.spec (inside a function)"
    ]


def test_relative_imports_resolve_to_their_modules(tmp_path: Path) -> None:
    found = found_in(
        tmp_path,
        {
            "poll/rooms.py": "",
            "poll/web/voting.py": "from ..rooms import Room\nfrom . import state\n",
            "poll/web/state.py": "from .voting import vote\n",
        },
    )
    assert found == [
        "cycle: poll.web.state → poll.web.voting → poll.web.state"
        "\n    poll/web/state.py:1: poll.web.state imports poll.web.voting"
        "\n    poll/web/voting.py:2: poll.web.voting imports poll.web.state"
    ]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"poll/rooms.py": "", "poll/questions/base.py": "import poll.rooms\n"},
            "poll/questions/base.py:1: poll.questions.base imports poll.rooms: "
            "upward: item types (rank 2) imports rooms (rank 4)",
        ),
        (
            {
                "poll/questions/base.py": "",
                "poll/store/base.py": "from poll.questions import base\n",
            },
            "poll/store/base.py:1: poll.store.base imports poll.questions.base: "
            "sideways: stores imports its sibling layer item types",
        ),
        (
            {"poll/store/base.py": "", "poll/web/voting.py": "from poll.store.base import X\n"},
            "poll/web/voting.py:1: poll.web.voting imports poll.store.base: "
            "only rooms talk to the store: use the Room (or a name poll.rooms exports)",
        ),
        (
            {
                "poll/web/export.py": "",
                "poll/cli.py": "def f():\n    from poll.web.export import w\n",
            },
            "poll/cli.py:2: poll.cli imports poll.web.export (inside a function): "
            "the command line takes from the web layer only what `poll serve` prints",
        ),
        (
            {
                "poll/store/redis.py": "",
                "poll/store/__init__.py": "from poll.store.redis import R\n",
            },
            "poll/store/__init__.py:1: poll.store imports poll.store.redis: "
            "only poll.store's open_store imports a store driver, inside the function",
        ),
        (
            {
                "poll/store/redis.py": "",
                "poll/store/base.py": "def f():\n    from .redis import R\n",
            },
            "poll/store/base.py:2: poll.store.base imports poll.store.redis (inside a function): "
            "only poll.store's open_store imports a store driver, inside the function",
        ),
        (
            {"poll/extra.py": ""},
            "poll.extra has no layer; add it to LAYERS in tests/test_imports.py",
        ),
    ],
    ids=[
        "upward",
        "sideways",
        "web-to-store",
        "cli-to-web",
        "driver-at-top",
        "driver-from-base",
        "no-layer",
    ],
)
def test_a_broken_rule_is_spelled_out(
    tmp_path: Path, files: Mapping[str, str], expected: str
) -> None:
    assert expected in found_in(tmp_path, files)


def test_a_store_contract_that_loads_its_drivers_is_caught(tmp_path: Path) -> None:
    graph = scan(
        make_package(
            tmp_path,
            {
                "poll/store/base.py": "def open_store():\n    from poll.store.sqlite import S\n",
                "poll/store/sqlite.py": "from poll.store.base import Store\n",
                "poll/store/redis.py": "from poll.store.base import Store\n",
            },
        )
    )
    assert len(problems(graph)) == 2  # the driver rule and the cycle
