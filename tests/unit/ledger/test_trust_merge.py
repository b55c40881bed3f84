"""``merge_trust``: the union of trust files, refused with the conflict named."""

from __future__ import annotations

import pytest

from credex.ledger.errors import ConfigError
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustedWitness, TrustStore
from credex.ledger.trust_merge import merge_trust


def _key(n: int) -> bytes:
    return bytes([n]) * 32


def _log(origin: str, n: int) -> TrustedLog:
    return TrustedLog(origin, origin, _key(n))


def _issuer(issuer_id: str, n: int, vf: int = 0, vu: int | None = None) -> TrustedIssuer:
    return TrustedIssuer(
        issuer_id, issuer_id.split("/")[0], _key(n), vf, vu, frozenset({"score.city"})
    )


NBP = "cn-zj-ningbo/platform"
NB = TrustStore((_log("nb/log", 1),), (_issuer("cn-zj-ningbo/platform", 2),))
HZ = TrustStore(
    (_log("hz/log", 3),),
    (_issuer("cn-zj-hangzhou/platform", 4, 0, 100), _issuer("cn-zj-hangzhou/platform", 5, 100)),
)


def test_union_in_a_stable_order() -> None:
    merged = merge_trust([("hz", HZ), ("nb", NB)])
    assert [g.origin for g in merged.logs] == ["hz/log", "nb/log"]
    assert [(i.issuer_id, i.public_key[0]) for i in merged.issuers] == [
        ("cn-zj-hangzhou/platform", 4),  # a rotation inside one file is kept
        ("cn-zj-hangzhou/platform", 5),
        ("cn-zj-ningbo/platform", 2),
    ]
    assert merge_trust([("nb", NB), ("hz", HZ), ("again", merged)]) == merged
    assert TrustStore.from_json(merged.to_json()) == merged


@pytest.mark.parametrize(
    ("other", "named"),
    [
        (TrustStore((_log("nb/log", 9),), ()), "log 'nb/log' key"),
        (
            TrustStore((), (_issuer("cn-zj-ningbo/platform", 9),)),
            "issuer 'cn-zj-ningbo/platform' (keys",
        ),
        (
            TrustStore((), (_issuer("cn-zj-ningbo/platform", 2, 0, 50),)),
            "issuer 'cn-zj-ningbo/platform' (its key windows, kinds or region)",
        ),
        (
            TrustStore(
                (), (_issuer("cn-zj-ningbo/platform", 2), _issuer("cn-zj-ningbo/platform", 6, 9))
            ),
            "issuer 'cn-zj-ningbo/platform' (keys",
        ),
        (
            TrustStore((), (), (TrustedWitness("w", _key(7)),), 1),
            "the witness quorum (0 in nb, 1 in",
        ),
    ],
)
def test_conflicts_are_named(other: TrustStore, named: str) -> None:
    with pytest.raises(ConfigError) as e:
        merge_trust([("nb", NB), ("other", other)])
    assert named in str(e.value) and "between nb and other; nothing written" in str(e.value)


def test_witnesses_with_one_name_and_two_keys() -> None:
    a = TrustStore((), (), (TrustedWitness("w", _key(7)),), 1)
    b = TrustStore((), (), (TrustedWitness("w", _key(8)),), 1)
    assert merge_trust([("a", a), ("a2", a)]).witnesses == a.witnesses
    with pytest.raises(ConfigError, match="witness 'w' key differs between a and b"):
        merge_trust([("a", a), ("b", b)])


def test_needs_two_files() -> None:
    with pytest.raises(ConfigError, match="at least two trust files, got 1"):
        merge_trust([("nb", NB)])
