"""Federation at a node: the manifest's files, the peers it follows, verified sync into
mirrors, serving mirrored records, and witnessing.

Modules: ``manifests`` (manifest files, admin key, versions logged), ``admin`` and
``membership`` (the manifest changes an operator makes), ``travel`` (versions served to
and fetched from the other members), ``watch`` (the version in force in a running
server), ``members`` (the other members and clients to them), ``peers`` (``peers.json``,
where mirrors live), ``sync`` (``PeerSync``: verify and mirror one peer), ``follow`` (a
sync round per peer), ``mirrors`` (bundles of mirrored records), ``holdings`` (a record's
lifecycle across the own log and every mirror; the bundles handed out), ``witnessing``
(cosigning others, collecting cosignatures), ``quorum`` (which checkpoint meets the
witness quorum). Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.node.federation.follow import (
        add_peers_from_manifest,
        follow_members,
        follow_round,
        follow_until,
        sync_peer,
    )
    from credex.node.federation.holdings import (
        Handout,
        Held,
        Holdings,
        Views,
        handout,
    )
    from credex.node.federation.manifests import (
        ADMIN_KEY_FILE,
        FEDERATION_DIR,
        WITNESS_KEY_FILE,
        Proposal,
        admin_key,
        chain_lock,
        install,
        install_held,
        load_chain,
        load_manifest,
        local_member,
        log_version,
        member_from_info,
        node_tls_chain,
        peer_client_name,
        propose,
        read_proposal,
        register_peer_clients,
        require_cert_covers,
        submit_signed,
        tls_cert_sha256,
        witness_public_key,
    )
    from credex.node.federation.members import (
        federation_manifest,
        member_ca_pem,
        member_for,
        peer_clients,
    )
    from credex.node.federation.membership import (
        remove_member_region,
        set_witness_quorum,
    )
    from credex.node.federation.mirrors import (
        MirrorBundles,
        MirrorView,
        RootSignature,
        root_path,
    )
    from credex.node.federation.peers import (
        PeerEntry,
        PeerRegistry,
        mirror_slug,
        mirror_url,
    )
    from credex.node.federation.quorum import (
        cosigned_checkpoint,
        cosigners,
        mark_quorum,
        wait_cosigned,
    )
    from credex.node.federation.sync import (
        PeerSource,
        PeerSync,
        SyncResult,
        verify_peer_statement,
    )
    from credex.node.federation.travel import (
        MAX_REFUSED,
        MAX_VERSIONS_PER_CALL,
        FetchResult,
        ManifestSource,
        RefusedVersion,
        fetch_versions,
        refused_versions,
        versions_after,
    )
    from credex.node.federation.watch import (
        ManifestWatch,
    )
    from credex.node.federation.witnessing import (
        ManifestWitness,
        WitnessClient,
        collect_cosignatures,
        witness_backend,
    )

__all__ = [
    "ADMIN_KEY_FILE",
    "FEDERATION_DIR",
    "MAX_REFUSED",
    "MAX_VERSIONS_PER_CALL",
    "WITNESS_KEY_FILE",
    "FetchResult",
    "Handout",
    "Held",
    "Holdings",
    "ManifestSource",
    "ManifestWatch",
    "ManifestWitness",
    "MirrorBundles",
    "MirrorView",
    "PeerEntry",
    "PeerRegistry",
    "PeerSource",
    "PeerSync",
    "Proposal",
    "RefusedVersion",
    "RootSignature",
    "SyncResult",
    "Views",
    "WitnessClient",
    "add_peers_from_manifest",
    "admin_key",
    "chain_lock",
    "collect_cosignatures",
    "cosigned_checkpoint",
    "cosigners",
    "federation_manifest",
    "fetch_versions",
    "follow_members",
    "follow_round",
    "follow_until",
    "handout",
    "install",
    "install_held",
    "load_chain",
    "load_manifest",
    "local_member",
    "log_version",
    "mark_quorum",
    "member_ca_pem",
    "member_for",
    "member_from_info",
    "mirror_slug",
    "mirror_url",
    "node_tls_chain",
    "peer_client_name",
    "peer_clients",
    "propose",
    "read_proposal",
    "refused_versions",
    "register_peer_clients",
    "remove_member_region",
    "require_cert_covers",
    "root_path",
    "set_witness_quorum",
    "submit_signed",
    "sync_peer",
    "tls_cert_sha256",
    "verify_peer_statement",
    "versions_after",
    "wait_cosigned",
    "witness_backend",
    "witness_public_key",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ADMIN_KEY_FILE": "manifests",
        "FEDERATION_DIR": "manifests",
        "FetchResult": "travel",
        "Handout": "holdings",
        "Held": "holdings",
        "Holdings": "holdings",
        "MAX_REFUSED": "travel",
        "MAX_VERSIONS_PER_CALL": "travel",
        "ManifestSource": "travel",
        "ManifestWatch": "watch",
        "ManifestWitness": "witnessing",
        "MirrorBundles": "mirrors",
        "MirrorView": "mirrors",
        "PeerEntry": "peers",
        "PeerRegistry": "peers",
        "PeerSource": "sync",
        "PeerSync": "sync",
        "Proposal": "manifests",
        "RefusedVersion": "travel",
        "RootSignature": "mirrors",
        "SyncResult": "sync",
        "Views": "holdings",
        "WITNESS_KEY_FILE": "manifests",
        "WitnessClient": "witnessing",
        "add_peers_from_manifest": "follow",
        "admin_key": "manifests",
        "chain_lock": "manifests",
        "collect_cosignatures": "witnessing",
        "cosigned_checkpoint": "quorum",
        "cosigners": "quorum",
        "federation_manifest": "members",
        "follow_round": "follow",
        "follow_until": "follow",
        "fetch_versions": "travel",
        "follow_members": "follow",
        "handout": "holdings",
        "install": "manifests",
        "install_held": "manifests",
        "load_chain": "manifests",
        "load_manifest": "manifests",
        "local_member": "manifests",
        "log_version": "manifests",
        "mark_quorum": "quorum",
        "member_ca_pem": "members",
        "member_for": "members",
        "member_from_info": "manifests",
        "mirror_slug": "peers",
        "mirror_url": "peers",
        "node_tls_chain": "manifests",
        "peer_client_name": "manifests",
        "peer_clients": "members",
        "propose": "manifests",
        "read_proposal": "manifests",
        "refused_versions": "travel",
        "register_peer_clients": "manifests",
        "remove_member_region": "membership",
        "require_cert_covers": "manifests",
        "root_path": "mirrors",
        "set_witness_quorum": "membership",
        "submit_signed": "manifests",
        "sync_peer": "follow",
        "tls_cert_sha256": "manifests",
        "verify_peer_statement": "sync",
        "versions_after": "travel",
        "wait_cosigned": "quorum",
        "witness_backend": "witnessing",
        "witness_public_key": "manifests",
    },
)
