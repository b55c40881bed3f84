"""``credex demo``: the whole story on real nodes, in a temporary home. Never imported by
production code (a test checks). Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.node.demo.runner import (
        run_demo,
    )

__all__ = [
    "run_demo",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "run_demo": "runner",
    },
)
