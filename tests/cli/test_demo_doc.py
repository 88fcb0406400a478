"""The demo's output quoted in the documentation is the output of the demo today.

A fenced ``text`` block of ``README.md``, ``docs/*.md`` or ``docs/zh/*.md`` that carries, on
the line just before its fence, the marker ``<!-- demo-output -->`` must appear verbatim —
as consecutive lines, trailing spaces aside — in what ``jxc demo`` prints in one of its
locales (zh_CN or en_US). The story runs on its own clock, so every figure, document number,
date and time is the same on every run; the lines with event ids (taken from the wall clock)
are left out of the marked blocks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from jxc_core.cli.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES: tuple[Path, ...] = (
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "docs" / "zh").glob("*.md")),
)
MARKER = "<!-- demo-output -->"
LOCALES = ("zh_CN", "en_US")


def _marked_blocks(path: Path) -> list[tuple[int, list[str]]]:
    """The marked ``text`` blocks of a page: (line of the fence, lines of the body)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        fence = lines[i + 1] if i + 1 < len(lines) else ""
        assert fence.strip() == "```text", (
            f"{path.name}:{i + 1}: {MARKER} must stand right before a ```text fence")
        end = next(j for j in range(i + 2, len(lines)) if lines[j].strip() == "```")
        blocks.append((i + 2, [x.rstrip() for x in lines[i + 2:end]]))
    return blocks


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[k:k + n] == needle for k in range(len(haystack) - n + 1))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """What ``jxc demo`` prints in each locale, run as documented: in a fresh directory, on
    its default file ``jxc-demo.db`` (the output names the file)."""
    result = {}
    for locale in LOCALES:
        out = io.StringIO()
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(tmp_path_factory.mktemp(f"demo-{locale}"))
            assert run_demo(locale=locale, db_path="jxc-demo.db", out=out) == 0
        result[locale] = [line.rstrip() for line in out.getvalue().splitlines()]
    return result


MARKED = [(path, line, body) for path in DOC_FILES for line, body in _marked_blocks(path)]


def test_the_demo_page_quotes_the_output() -> None:
    assert any(path.name == "demo.md" for path, _, _ in MARKED)


@pytest.mark.parametrize(
    ("path", "line", "body"), MARKED,
    ids=[f"{p.relative_to(ROOT).as_posix()}:{n}" for p, n, _ in MARKED])
def test_a_quoted_block_is_what_the_demo_prints(
        outputs: dict[str, list[str]], path: Path, line: int, body: list[str]) -> None:
    assert body, f"{path.name}:{line}: an empty block"
    assert any(_contains(outputs[locale], body) for locale in LOCALES), (
        f"{path.relative_to(ROOT)}:{line}: the block is not in the output of `jxc demo`")
