"""``python -m jxc_core demo``: the ``jxc`` command line without its console script."""

from __future__ import annotations

from jxc_core.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
