"""Lineage: a file's ancestors (input files and codes, recursively) and descendants.

The graph is read from ``filefilelink`` and ``filecodelink`` one generation
at a time (one query per generation and direction, however many files it
holds), then shown as an indented tree, as nested JSON, or as Graphviz DOT.
A file reached twice (a DAG, not a tree) is expanded once and marked
``repeated`` afterwards.

It reads through the Core views (``db/core.py``), so ``printLineage`` never
imports the ORM: a question asked from a terminal costs what SQLAlchemy's
import does, not the models' too.  *db* may be a Connection or a Session.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select

from ..db import core
from ..db.core import file_row, version_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_file, _code, _ffl, _fcl = core.file, core.code, core.filefilelink, core.filecodelink


@dataclass
class Graph:
    root: int
    files: dict[int, Row[Any]] = field(default_factory=dict)
    products: dict[int, str] = field(default_factory=dict)
    codes: dict[int, Row[Any]] = field(default_factory=dict)
    parents: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    children: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    made_by: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


def read_graph(db: Connection | Session, name: str, *, up: bool = True, down: bool = True,
               depth: int | None = None) -> Graph:
    root = file_row(db, name)
    graph = Graph(root.file_id, files={root.file_id: root})
    if up:
        _walk(db, graph, {root.file_id}, depth, upward=True)
    if down:
        _walk(db, graph, {root.file_id}, depth, upward=False)
    ids = {f.product_id for f in graph.files.values()}
    product = core.product
    graph.products = {r.product_id: r.product_name for r in db.execute(
        select(product.c.product_id, product.c.product_name)
        .where(product.c.product_id.in_(ids)))}
    return graph


def _walk(db: Connection | Session, graph: Graph, frontier: set[int], depth: int | None,
          upward: bool) -> None:
    seen = set(frontier)
    generation = 0
    while frontier and (depth is None or generation < depth):
        generation += 1
        if upward:
            links = db.execute(select(_ffl.c.source_file, _ffl.c.resulting_file)
                               .where(_ffl.c.resulting_file.in_(frontier))).all()
            for source, result in links:
                graph.parents[result].append(source)
            codes = db.execute(select(_fcl.c.resulting_file, _code)
                               .join(_code, _code.c.code_id == _fcl.c.source_code)
                               .where(_fcl.c.resulting_file.in_(frontier))).all()
            for row in codes:
                graph.codes[row.code_id] = row
                graph.made_by[row.resulting_file].append(row.code_id)
            found = {source for source, _ in links}
        else:
            links = db.execute(select(_ffl.c.source_file, _ffl.c.resulting_file)
                               .where(_ffl.c.source_file.in_(frontier))).all()
            for source, result in links:
                graph.children[source].append(result)
            found = {result for _, result in links}
        new = found - seen
        if new:
            for f in db.execute(select(_file).where(_file.c.file_id.in_(new))):
                graph.files[f.file_id] = f
        seen |= new
        frontier = new


def _code_node(code: Row[Any]) -> dict:
    return {"code": code.filename, "code_id": code.code_id,
            "version": str(version_of(code))}


def _file_node(graph: Graph, file_id: int) -> dict:
    f = graph.files[file_id]
    return {"file": f.filename, "file_id": f.file_id, "product": graph.products.get(f.product_id),
            "date": f.utc_file_date.isoformat() if f.utc_file_date else None,
            "version": str(version_of(f)), "shasum": f.shasum}


def as_tree(graph: Graph, upward: bool) -> dict:
    """Nested dicts: inputs (and codes) upward, or children downward."""
    expanded: set[int] = set()

    def node(file_id: int) -> dict:
        data = _file_node(graph, file_id)
        if file_id in expanded:
            data["repeated"] = True
            return data
        expanded.add(file_id)
        if upward:
            data["codes"] = [_code_node(graph.codes[c]) for c in sorted(graph.made_by[file_id])]
            data["inputs"] = [node(p) for p in sorted(graph.parents[file_id],
                                                       key=lambda i: graph.files[i].filename)
                              if p in graph.files]
        else:
            data["children"] = [node(c) for c in sorted(graph.children[file_id],
                                                         key=lambda i: graph.files[i].filename)
                                if c in graph.files]
        return data

    return node(graph.root)


def as_text(graph: Graph, up: bool, down: bool) -> str:
    lines: list[str] = []

    def show(tree: dict, indent: int, key: str) -> None:
        mark = " (see above)" if tree.get("repeated") else ""
        lines.append(f"{'  ' * indent}{tree['file']} [{tree['product']} {tree['date']} "
                     f"v{tree['version']}]{mark}")
        for code in tree.get("codes", []):
            lines.append(f"{'  ' * (indent + 1)}code {code['code']} {code['version']}")
        for sub in tree.get(key, []):
            show(sub, indent + 1, key)

    if up:
        lines.append("ancestors (inputs and codes):")
        show(as_tree(graph, upward=True), 1, "inputs")
    if down:
        lines.append("descendants:")
        show(as_tree(graph, upward=False), 1, "children")
    return "\n".join(lines)


def as_dot(graph: Graph) -> str:
    """Graphviz DOT: files are boxes, codes ellipses; edges point from input to output."""
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box];"]
    for file_id in sorted(graph.files):
        f = graph.files[file_id]
        style = ", style=bold" if file_id == graph.root else ""
        lines.append(f"  f{file_id} [label={quote(f.filename)}{style}];")
    for code_id in sorted(graph.codes):
        code = graph.codes[code_id]
        lines.append(f"  c{code_id} [shape=ellipse, label="
                     f"{quote(code.filename + ' ' + _code_node(code)['version'])}];")
    edges = set()
    for result, sources in graph.parents.items():
        edges |= {(f"f{s}", f"f{result}") for s in sources if s in graph.files}
    for source, results in graph.children.items():
        edges |= {(f"f{source}", f"f{r}") for r in results if r in graph.files}
    for result, codes in graph.made_by.items():
        edges |= {(f"c{c}", f"f{result}") for c in codes}
    lines += [f"  {a} -> {b};" for a, b in sorted(edges)]
    lines.append("}")
    return "\n".join(lines)
