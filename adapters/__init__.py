"""Regional formats in, validated records out: ``base`` (the ``Adapter`` seam),
``public_credit`` (双公示 penalty CSV), ``hk_report`` (Hong Kong company reports),
``schemes`` (city score schemes and rating scales), ``registry`` (adapters by name),
``sample`` / ``sample_hk`` (synthetic data for the demo and tests). Names are imported
lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.adapters.base import (
        Adapter,
        AdapterContext,
        HeaderWarning,
        ParsedRow,
        RowError,
    )
    from credex.adapters.registry import (
        ADAPTERS,
        adapter_named,
    )

__all__ = [
    "ADAPTERS",
    "Adapter",
    "AdapterContext",
    "HeaderWarning",
    "ParsedRow",
    "RowError",
    "adapter_named",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ADAPTERS": "registry",
        "Adapter": "base",
        "AdapterContext": "base",
        "HeaderWarning": "base",
        "ParsedRow": "base",
        "RowError": "base",
        "adapter_named": "registry",
    },
)
