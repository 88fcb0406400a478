"""Entry point of the ``jxc`` console script."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jxc", description="jxc_core command line")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the walkthrough story")
    demo.add_argument("--locale", default="zh_CN", help="zh_CN (default) or en_US")
    demo.add_argument("--db", default="jxc-demo.db", help="SQLite file of the story")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from jxc_core.cli.demo import run_demo

        return run_demo(locale=args.locale, db_path=args.db, out=sys.stdout)
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":  # python -m jxc_core.cli.main demo
    raise SystemExit(main())
