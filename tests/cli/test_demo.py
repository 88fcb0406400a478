"""The demo story (``jxc demo``, ``make demo``) as a test: it runs on a SQLite file of its own,
twice (the file is made anew), in both locales, and its own checks pass — balances identical
after reopening the file, debits equal credits, the inventory accounts equal the stock
valuation and the 进销存汇总表, and no difference per item and warehouse. Run as a module
(``python -m jxc_core.cli.main demo``, ``python -m jxc_core demo``) it does the same."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jxc_core.cli.demo import run_demo


@pytest.mark.parametrize("locale", ["zh_CN", "en_US"])
def test_the_demo_runs_twice_and_its_books_agree(tmp_path: Path, locale: str) -> None:
    db = str(tmp_path / "jxc-demo.db")
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        assert run_demo(locale=locale, db_path=db, out=out) == 0
        outputs.append(out.getvalue())
    # made anew: the same story, the same figures; the event ids it prints begin with their
    # moment (time-ordered ids), which moves on every 65 s: compared without them
    same = [re.sub(r"\[event [0-9a-f]+\]", "[event]", o) for o in outputs]
    assert same[0] == same[1]
    assert same[0] != outputs[0]  # the ids were there to leave out
    last = [line for line in outputs[0].splitlines() if "1405+1403" in line]
    assert len(last) == 1 and last[0].endswith(": True")
    assert ("差额 0" if locale == "zh_CN" else "differences 0") in last[0]


@pytest.mark.parametrize("module", ["jxc_core.cli.main", "jxc_core"])
def test_the_demo_runs_as_a_module(tmp_path: Path, module: str) -> None:
    """``python -m jxc_core.cli.main demo`` did nothing (no ``__main__`` guard) and exited 0."""
    done = subprocess.run([sys.executable, "-m", module, "demo"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    last = [line for line in done.stdout.splitlines() if "1405+1403" in line]
    assert len(last) == 1 and last[0].endswith(": True") and "差额 0" in last[0]
    assert (tmp_path / "jxc-demo.db").is_file()  # the default file, in the working directory
