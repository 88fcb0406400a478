"""The code examples of the documentation, run as tests.

Every fenced ``python`` (or ``py``) block of ``README.md``, ``docs/*.md`` and ``docs/zh/*.md``
is one test, with the id ``<file>-block<n>`` (n counts the Python blocks of the file from 1).
The blocks of one file run in order in one shared namespace, so that a later block may use
the names of an earlier one, with a temporary directory of that file as working directory
(a SQLite file an example creates lands there). Tracebacks point at the lines of the Markdown
file itself.

A block that is not meant to run (a fragment, a signature, pseudo-code, a sketch that needs a
server) carries, on the line just before its fence, the marker::

    <!-- not-run: short reason -->

It is reported as skipped with that reason; ``test_not_run_markers_give_a_reason`` checks
that every marker has one and stands right before a Python block.

A block that fails because of the library, not the example, is listed in ``KNOWN_FAILURES``
and runs as a strict expected failure: it fails the suite once the library is fixed, so the
list cannot go stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES: tuple[Path, ...] = (
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "docs" / "zh").glob("*.md")),
)
PYTHON_LANGUAGES = frozenset({"python", "py"})
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)")
MARKER = re.compile(r"^<!-- not-run: (?P<reason>\S.*?) -->$")  # exactly, with a reason
LOOSE_MARKER = re.compile(r"<!--\s*not-run\b\s*:?(?P<reason>.*?)-->")
ANY_MARKER = re.compile(r"not-run", re.IGNORECASE)

# "<file>-block<n>" -> why the example fails although it is right: a bug of the library.
KNOWN_FAILURES: dict[str, str] = {}


@dataclass(frozen=True)
class Block:
    path: Path
    index: int  # 1-based among the Python blocks of the file
    line: int  # 1-based line of the first line of code
    code: str
    not_run: str | None  # the marker's reason, None when the block runs

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def id(self) -> str:
        return f"{self.rel}-block{self.index}"


@dataclass(frozen=True)
class Fence:
    info: str
    line: int  # 1-based line of the opening fence
    body: list[str]
    before: str  # the line just before the opening fence ("" at the top of the file)


def fences(text: str) -> Iterator[Fence]:
    """The fenced code blocks of a Markdown text (CommonMark fences, backticks or tildes)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence = len(m["indent"]), m["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            line = lines[j]
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            j += 1
        yield Fence(m["info"].lower(), i + 1, body, lines[i - 1] if i else "")
        i = j + 1


def python_blocks(path: Path) -> list[Block]:
    blocks: list[Block] = []
    for f in fences(path.read_text(encoding="utf-8")):
        if f.info not in PYTHON_LANGUAGES:
            continue
        m = MARKER.match(f.before)
        blocks.append(Block(path, len(blocks) + 1, f.line + 1, "\n".join(f.body) + "\n",
                            m["reason"] if m else None))
    return blocks


BLOCKS: list[Block] = [b for path in DOC_FILES for b in python_blocks(path)]


def _param(block: Block) -> Any:
    marks: list[pytest.MarkDecorator] = []
    if block.not_run is not None:
        marks.append(pytest.mark.skip(reason=f"not-run: {block.not_run}"))
    elif block.id in KNOWN_FAILURES:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[block.id]))
    return pytest.param(block, id=block.id, marks=marks)


@dataclass
class FileRun:
    """The state of one file's examples: their namespace, their directory, the next block."""

    workdir: Path
    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__docs_example__"})
    next_index: int = 1


_runs: dict[Path, FileRun] = {}


def _execute(block: Block, namespace: dict[str, Any]) -> None:
    # padded with empty lines so that tracebacks give the line of the Markdown file
    source = "\n" * (block.line - 1) + block.code
    exec(compile(source, str(block.path), "exec"), namespace)


def _run_for(block: Block, tmp_path_factory: pytest.TempPathFactory,
             monkeypatch: pytest.MonkeyPatch) -> FileRun:
    """The file's state ready for ``block``, in its directory: the earlier blocks have run.
    Tests run in order do each block once; a block selected alone (or out of order) replays
    the earlier ones of its file in a fresh namespace and directory. An earlier block that
    fails is that block's own test's failure: here, as in a run in order, the next blocks go
    on after it."""
    run = _runs.get(block.path)
    if run is not None and run.next_index == block.index:
        monkeypatch.chdir(run.workdir)
    else:
        name = re.sub(r"[^\w]+", "_", block.rel)
        run = FileRun(tmp_path_factory.mktemp(name))
        _runs[block.path] = run
        monkeypatch.chdir(run.workdir)
        for earlier in BLOCKS:
            if earlier.path == block.path and earlier.index < block.index \
                    and earlier.not_run is None:
                try:
                    _execute(earlier, run.namespace)
                except Exception:
                    pass
        run.next_index = block.index
    return run


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_doc_example(block: Block, tmp_path_factory: pytest.TempPathFactory,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run_for(block, tmp_path_factory, monkeypatch)
    run.next_index = block.index + 1
    _execute(block, run.namespace)


def test_blocks_are_found() -> None:
    """The collection itself works: the README's examples are there, and every file given in
    ``KNOWN_FAILURES`` names a block that exists and runs."""
    ids = {b.id for b in BLOCKS}
    assert "README.md-block1" in ids
    runnable = {b.id for b in BLOCKS if b.not_run is None}
    assert set(KNOWN_FAILURES) <= runnable, set(KNOWN_FAILURES) - runnable


def test_not_run_markers_give_a_reason() -> None:
    """Every ``not-run`` marker is exactly ``<!-- not-run: reason -->`` with a reason, on the
    line just before the fence of a Python block."""
    problems: list[str] = []
    for path in DOC_FILES:
        rel = path.relative_to(ROOT).as_posix()
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, start=1):
            if not ANY_MARKER.search(line):
                continue
            loose = LOOSE_MARKER.search(line)
            if loose is not None and not loose["reason"].strip():
                problems.append(f"{rel}:{n}: not-run marker without a reason: {line!r}")
                continue
            if MARKER.match(line) is None:
                problems.append(f"{rel}:{n}: not written <!-- not-run: reason -->: {line!r}")
                continue
            nxt = FENCE.match(lines[n]) if n < len(lines) else None
            if nxt is None or nxt["info"].lower() not in PYTHON_LANGUAGES:
                problems.append(f"{rel}:{n}: not-run marker not just before a python fence")
    assert not problems, "\n".join(problems)
