"""The ``jxc`` command line: ``jxc demo`` runs the walkthrough."""

from jxc_core.cli.main import main

__all__ = ["main"]
