"""credex: a federated cross-region credit exchange with verifiable records.

Subpackages: ``credex.ledger`` (pure core and the log), ``credex.adapters`` (regional
formats), ``credex.node`` (node home, later gRPC), ``credex.cli`` (the command line).
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
