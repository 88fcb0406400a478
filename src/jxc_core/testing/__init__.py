"""The storage contract suite, shipped for authors of storage adapters.

``StorageContract`` is the abstract pytest suite every shipped adapter passes: subclass it in
your own tests, say how to make (and reopen) your storage, and every contract test runs
against it. Importing this package needs pytest (``pip install jxc_core[test]``); nothing
else in jxc_core imports it.
"""

from jxc_core.testing.contract import StorageContract

__all__ = ["StorageContract"]
