"""``ManifestWatch``: a node's manifest as its files say now, for a long-running server.

``credex serve`` runs for days while the command line (``credex federation import``,
``recognize-add``, ...) and the follow loop install new versions under
``HOME/federation/``. The watch re-reads and re-verifies the chain only when the version
files changed (names, sizes and modification times), so every component that asks for
``current()`` (the witness, the follow loop, the lookup forwarder) uses the version in
force without a restart. A chain that stops verifying keeps the last good one in force
and says why (``error``).

Nothing here prints or writes.
"""

from __future__ import annotations

import threading
from pathlib import Path

from credex.ledger.errors import CredexError
from credex.ledger.manifest import Manifest, verify_manifest_chain
from credex.node.federation.manifests import FEDERATION_DIR, load_chain
from credex.node.home import NodeHome

__all__ = ["ManifestWatch"]

_Stamp = tuple[tuple[str, int, int], ...]


class ManifestWatch:
    """The verified manifest of ``home``, reloaded when its version files change."""

    def __init__(self, home: NodeHome) -> None:
        self.home = home
        self._lock = threading.Lock()
        self._stamp: _Stamp | None = None
        self._manifest: Manifest | None = None
        #: why the files on disk were not taken (the previous version stays in force)
        self.error: str | None = None

    def _read_stamp(self) -> _Stamp:
        d: Path = self.home.path / FEDERATION_DIR
        if not d.is_dir():
            return ()
        out = []
        for p in d.iterdir():
            if p.name.startswith("manifest-") and p.name.endswith(".cbor"):
                st = p.stat()
                out.append((p.name, st.st_size, st.st_mtime_ns))
        return tuple(sorted(out))

    def current(self) -> Manifest | None:
        """The manifest in force (None: this node has none yet)."""
        with self._lock:
            try:
                stamp = self._read_stamp()
            except OSError:
                return self._manifest
            if stamp == self._stamp:
                return self._manifest
            try:
                chain = load_chain(self.home)
                self._manifest = verify_manifest_chain(chain) if chain else None
                self.error = None
            except CredexError as e:
                self.error = str(e)
            self._stamp = stamp
            return self._manifest

    @property
    def version(self) -> int:
        """The version in force (0: none)."""
        m = self.current()
        return 0 if m is None else m.latest.version
