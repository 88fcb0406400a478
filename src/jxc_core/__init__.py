"""jxc_core: a reusable purchase-sales-inventory (进销存) domain core."""

from jxc_core.errors import JxcError

__all__ = ["JxcError", "__version__"]

__version__ = "0.1.0"
