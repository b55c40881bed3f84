"""Regional formats in, validated records out: ``base`` (the ``Adapter`` seam),
``public_credit`` (双公示 penalty CSV), ``hk_report`` (Hong Kong company reports),
``table`` (row-by-row CSV tables) with ``licenses`` (双公示 licences), ``lists`` (red and
black lists), ``court_list`` (失信被执行人) and ``tax_credit`` (A级纳税人), ``lines``
(line-oriented input cut into blocks at line ends, for parsing in worker processes),
``schemes`` (city score schemes and rating scales) with ``sources`` (their provenance),
``registry`` (adapters by name), ``sample`` / ``sample_hk`` (synthetic data for the demo
and tests; ``samples/`` holds one synthetic file per importer), ``rules/`` and
``policies/`` (rule and conversion policy files). Names are imported lazily.
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
