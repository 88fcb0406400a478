"""Fast constructors of frozen slotted attrs records, for the hot paths of jxc_core.

attrs builds a frozen slotted record by calling ``object.__setattr__`` by name once per field
(its ``__setattr__`` refuses every change); most of the time of building a ledger entry goes
there. :func:`fast_init` makes a function that builds the same object with every field given,
setting each slot through its descriptor. Nothing else differs: the type, equality, hashing,
``repr``, ``attrs.evolve`` and the refusal of later changes are the record's own.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["fast_init"]


def fast_init(cls: type) -> Any:
    """``cls(*args)`` for a frozen slotted attrs class, every field given positionally (no
    defaults; only for records without validators, converters or init hooks: refused)."""
    fields = attrs.fields(cls)
    if (any(f.validator is not None or f.converter is not None for f in fields)
            or hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__")):
        raise TypeError(f"{cls.__name__} has validators, converters or init hooks: use its "
                        "__init__")
    names = tuple(f.name for f in fields)
    params = ", ".join(names)
    body = "\n".join(f"    _set_{n}(self, {n})" for n in names)
    src = f"def make({params}):\n    self = _new(_cls)\n{body}\n    return self\n"
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    for n in names:
        scope[f"_set_{n}"] = cls.__dict__[n].__set__
    exec(src, scope)  # generated from the class's own field names, as attrs does
    return scope["make"]
