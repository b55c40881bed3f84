"""Merging ``credex-trust/1`` files: one trust file for a verifier that trusts several
regions without a federation manifest (``credex trust merge``).

The merge is the union of the files' logs, issuers and witnesses, refused when two files
disagree about one name:

- a log origin listed with different keys (or note key names);
- an issuer id listed with different keys, windows, kinds or region: a rotation shows
  in a fresh export of the issuing node, never by mixing an old export with a new one;
- a witness name with different keys;
- different quorums (a trust file has one quorum for all its logs; several regions
  with witnesses are what a federation manifest is for).

The error names the conflict and both files. Pure: the caller reads and writes files.
"""

from __future__ import annotations

from collections.abc import Sequence

from credex.ledger.errors import ConfigError
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustedWitness, TrustStore

__all__ = ["merge_trust"]


def _keys(issuers: Sequence[TrustedIssuer]) -> str:
    return ", ".join(f"{i.public_key.hex()[:16]}…" for i in issuers)


def _issuer_entries(store: TrustStore) -> dict[str, tuple[TrustedIssuer, ...]]:
    out: dict[str, list[TrustedIssuer]] = {}
    for i in store.issuers:
        out.setdefault(i.issuer_id, []).append(i)
    return {k: tuple(sorted(v, key=lambda i: (i.valid_from, i.public_key))) for k, v in out.items()}


def _conflict(what: str, a: str, b: str) -> ConfigError:
    return ConfigError(
        f"trust merge: conflict: {what} differs between {a} and {b}; nothing written"
    )


def merge_trust(files: Sequence[tuple[str, TrustStore]]) -> TrustStore:
    """The union of the trust files ``(name, store)``, in a stable order (logs by
    origin, issuers by id and window, witnesses by name).

    Raises:
        ConfigError: fewer than two files, or two files that disagree (named).
    """
    if len(files) < 2:
        raise ConfigError(f"trust merge: expected at least two trust files, got {len(files)}")
    logs: dict[str, tuple[str, TrustedLog]] = {}
    issuers: dict[str, tuple[str, tuple[TrustedIssuer, ...]]] = {}
    witnesses: dict[str, tuple[str, TrustedWitness]] = {}
    quorum: tuple[str, int] | None = None
    for name, store in files:
        for g in store.logs:
            seen = logs.setdefault(g.origin, (name, g))
            if seen[1] != g:
                what = f"log {g.origin!r} key ({g.public_key.hex()[:16]}… in {name})"
                raise _conflict(what, seen[0], name)
        for issuer_id, entries in _issuer_entries(store).items():
            had = issuers.setdefault(issuer_id, (name, entries))
            if had[1] != entries:
                a, b = _keys(had[1]), _keys(entries)
                what = (
                    f"issuer {issuer_id!r} (keys {a} in {had[0]}, {b} in {name})"
                    if a != b
                    else f"issuer {issuer_id!r} (its key windows, kinds or region)"
                )
                raise _conflict(what, had[0], name)
        for w in store.witnesses:
            prior = witnesses.setdefault(w.name, (name, w))
            if prior[1] != w:
                raise _conflict(f"witness {w.name!r} key", prior[0], name)
        if quorum is not None and quorum[1] != store.quorum:
            what = (
                f"the witness quorum ({quorum[1]} in {quorum[0]}, {store.quorum} in {name}: "
                "use a federation manifest for several regions with witnesses)"
            )
            raise _conflict(what, quorum[0], name)
        quorum = (name, store.quorum)
    all_issuers = [i for _, entries in issuers.values() for i in entries]
    return TrustStore(
        tuple(logs[o][1] for o in sorted(logs)),
        tuple(sorted(all_issuers, key=lambda i: (i.issuer_id, i.valid_from, i.public_key))),
        tuple(witnesses[n][1] for n in sorted(witnesses)),
        0 if quorum is None else quorum[1],
    )
