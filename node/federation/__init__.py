"""Federation at a node: the manifest's files, the peers it follows, verified sync into
mirrors, serving mirrored records, and witnessing.

Modules: ``manifests`` (manifest files, admin key, versions logged), ``admin`` (the
manifest changes an operator makes), ``members`` (the other members and clients to them),
``peers`` (``peers.json``, where mirrors live), ``sync`` (``PeerSync``: verify and mirror
one peer), ``follow`` (a sync round per peer; the ``serve --follow`` loop, which no peer
can stop), ``mirrors`` (bundles of mirrored records), ``witnessing`` (cosigning others,
collecting cosignatures). Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.node.federation.follow import (
        add_peers_from_manifest,
        follow_round,
        follow_until,
        sync_peer,
    )
    from credex.node.federation.manifests import (
        ADMIN_KEY_FILE,
        FEDERATION_DIR,
        WITNESS_KEY_FILE,
        Proposal,
        admin_key,
        install,
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
    from credex.node.federation.sync import (
        PeerSource,
        PeerSync,
        SyncResult,
        verify_peer_statement,
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
    "WITNESS_KEY_FILE",
    "ManifestWitness",
    "MirrorBundles",
    "MirrorView",
    "PeerEntry",
    "PeerRegistry",
    "PeerSource",
    "PeerSync",
    "Proposal",
    "RootSignature",
    "SyncResult",
    "WitnessClient",
    "add_peers_from_manifest",
    "admin_key",
    "collect_cosignatures",
    "federation_manifest",
    "follow_round",
    "follow_until",
    "install",
    "load_chain",
    "load_manifest",
    "local_member",
    "log_version",
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
    "register_peer_clients",
    "root_path",
    "submit_signed",
    "sync_peer",
    "tls_cert_sha256",
    "verify_peer_statement",
    "witness_backend",
    "witness_public_key",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ADMIN_KEY_FILE": "manifests",
        "FEDERATION_DIR": "manifests",
        "WITNESS_KEY_FILE": "manifests",
        "ManifestWitness": "witnessing",
        "MirrorBundles": "mirrors",
        "MirrorView": "mirrors",
        "PeerEntry": "peers",
        "PeerRegistry": "peers",
        "PeerSource": "sync",
        "PeerSync": "sync",
        "Proposal": "manifests",
        "RootSignature": "mirrors",
        "SyncResult": "sync",
        "WitnessClient": "witnessing",
        "add_peers_from_manifest": "follow",
        "admin_key": "manifests",
        "collect_cosignatures": "witnessing",
        "federation_manifest": "members",
        "follow_round": "follow",
        "follow_until": "follow",
        "install": "manifests",
        "load_chain": "manifests",
        "load_manifest": "manifests",
        "local_member": "manifests",
        "log_version": "manifests",
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
        "register_peer_clients": "manifests",
        "root_path": "mirrors",
        "submit_signed": "manifests",
        "sync_peer": "follow",
        "tls_cert_sha256": "manifests",
        "verify_peer_statement": "sync",
        "witness_backend": "witnessing",
        "witness_public_key": "manifests",
    },
)
