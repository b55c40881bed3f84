"""What a node does, one module each: ``intake`` (statements submitted over gRPC),
``records`` (record values to records), ``importer`` (regional files), ``recognition``
(policies and derived records), ``lifecycle`` (repairs, objections, outcomes, status),
``erasure`` (personal bodies), ``sharing`` (what is still shared), ``lookup`` and
``audit`` (bank lookups and their audit trail), ``banking`` (a bank's side of a lookup),
``conflicts`` (records that disagree across regions), ``finding`` and ``showing``
(searching what a node holds, one record in full). Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.node.services.audit import (
        LookupAudit,
        lookups_of,
    )
    from credex.node.services.banking import (
        LookupReport,
        lookup_subject,
    )
    from credex.node.services.conflicts import (
        node_conflicts,
    )
    from credex.node.services.erasure import (
        erase_body,
        erase_if_ended,
        purge_ended,
    )
    from credex.node.services.finding import (
        FoundRecord,
        RecordList,
        RecordQuery,
        find_records,
    )
    from credex.node.services.importer import (
        ImportedRow,
        ImportSink,
        ImportSummary,
        Tally,
        import_bytes,
        import_stream,
    )
    from credex.node.services.intake import (
        Intake,
        SubmitAck,
    )
    from credex.node.services.lifecycle import (
        LifecycleResult,
        add_lifecycle,
        status_of,
    )
    from credex.node.services.lookup import (
        Caller,
        SubjectLookup,
    )
    from credex.node.services.recognition import (
        Recognition,
        add_policy,
        recognize,
    )
    from credex.node.services.records import (
        record_from_value,
        records_from_jsonl,
    )
    from credex.node.services.sharing import (
        require_shared,
    )
    from credex.node.services.showing import (
        RecordDetail,
        show_record,
    )

__all__ = [
    "Caller",
    "FoundRecord",
    "ImportSink",
    "ImportSummary",
    "ImportedRow",
    "Intake",
    "LifecycleResult",
    "LookupAudit",
    "LookupReport",
    "Recognition",
    "RecordDetail",
    "RecordList",
    "RecordQuery",
    "SubjectLookup",
    "SubmitAck",
    "Tally",
    "add_lifecycle",
    "add_policy",
    "erase_body",
    "erase_if_ended",
    "find_records",
    "import_bytes",
    "import_stream",
    "lookup_subject",
    "lookups_of",
    "node_conflicts",
    "purge_ended",
    "recognize",
    "record_from_value",
    "records_from_jsonl",
    "require_shared",
    "show_record",
    "status_of",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "Caller": "lookup",
        "FoundRecord": "finding",
        "ImportSink": "importer",
        "ImportSummary": "importer",
        "ImportedRow": "importer",
        "Tally": "importer",
        "import_stream": "importer",
        "Intake": "intake",
        "LifecycleResult": "lifecycle",
        "LookupAudit": "audit",
        "LookupReport": "banking",
        "Recognition": "recognition",
        "RecordDetail": "showing",
        "RecordList": "finding",
        "RecordQuery": "finding",
        "SubjectLookup": "lookup",
        "SubmitAck": "intake",
        "add_lifecycle": "lifecycle",
        "add_policy": "recognition",
        "erase_body": "erasure",
        "erase_if_ended": "erasure",
        "find_records": "finding",
        "import_bytes": "importer",
        "lookup_subject": "banking",
        "lookups_of": "audit",
        "node_conflicts": "conflicts",
        "purge_ended": "erasure",
        "recognize": "recognition",
        "record_from_value": "records",
        "records_from_jsonl": "records",
        "require_shared": "sharing",
        "show_record": "showing",
        "status_of": "lifecycle",
    },
)
