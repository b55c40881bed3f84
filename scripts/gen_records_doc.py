"""Regenerate docs/records.md and the browser verifier's kind table
(node/web/static/verify/kinds.js) from credex.ledger.record.KIND_SPECS: the one list of
record kinds, their body fields and which kinds stay on the log in the clear. A test fails
if either file is stale."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from credex.ledger.envelope import ON_LOG_KINDS
from credex.ledger.lifecycle import STATUS_KINDS
from credex.ledger.record import KIND_SPECS, MAX_RECORD_BYTES, SUBJECTLESS_KINDS

HEAD = f"""# Record kinds and body fields

Generated from `ledger/record.py` (`KIND_SPECS`) by `scripts/gen_records_doc.py`; a test
fails if this file is stale. Every record is the FORMATS.md map
`{{"v": 1, "kind", "region", "subject": {{"type", "id"}}, "body", "valid_from",
? "valid_until", ? "refs"}}` in deterministic CBOR, at most {MAX_RECORD_BYTES // 1024} KiB.

- Dates inside bodies are ISO text `YYYY-MM-DD` (China Standard Time); `valid_from` /
  `valid_until` are Unix seconds. Money is decimal text in 万元 (e.g. `"0.5"`): no floats.
- `subject.type` `org`: a USCC (GB 32100, 18 characters) or `HK-CR:<no>` /
  `HK-BR:<8 digits>-<branch>`; `person`: `hmac:<keyid>:<64 hex>`, HMAC-SHA256 of the
  normalised 18-character resident ID under the node's subject key. Raw ID numbers are
  refused.
- Unknown body fields are refused; so are missing required ones.
- `federation.manifest` and `policy.conversion` are about a document, not a subject: they
  use the reserved person key id `00000000` with the document's hash
  (`hmac:00000000:<hash>`), which no subject key produces; no other kind may use it.

"""


def render() -> str:
    out = [HEAD]
    for kind, spec in sorted(KIND_SPECS.items()):
        out.append(f"## `{kind}`\n\n")
        if spec.description:
            out.append(f"{spec.description[:1].upper()}{spec.description[1:]}.\n\n")
        if spec.needs_refs:
            out.append("Needs `refs`: the leaf hashes of the records it depends on.\n\n")
        out.append("| field | type | required |\n| --- | --- | --- |\n")
        for name, t in spec.required.items():
            out.append(f"| `{name}` | {t} | yes |\n")
        for name, t in spec.optional.items():
            out.append(f"| `{name}` | {t} | no |\n")
        out.append("\n")
    return "".join(out).rstrip("\n") + "\n"


_JS_TYPES = {"text": "T", "int": "I", "list": "L", "map": "M", "bytes": "B"}


def render_js() -> str:
    """The kind table as an ES module for the browser verifier."""

    def fields(mapping: dict[str, str]) -> str:
        return "{" + ", ".join(f"{json.dumps(k)}: {_JS_TYPES[t]}" for k, t in mapping.items()) + "}"

    rows = [
        f"  [{json.dumps(kind)}, spec({fields(dict(spec.required))}, "
        f"{fields(dict(spec.optional))}, {'true' if spec.needs_refs else 'false'})],"
        for kind, spec in sorted(KIND_SPECS.items())
    ]

    def js_list(values: object) -> str:
        return json.dumps(sorted(values), ensure_ascii=False)  # type: ignore[call-overload]

    return "\n".join(
        [
            "// Generated from ledger/record.py KIND_SPECS by scripts/gen_records_doc.py;",
            "// a test fails if it is stale. docs/records.md is the same table in prose.",
            "const T = 'text';",
            "const I = 'int';",
            "const L = 'list';",
            "const M = 'map';",
            "const B = 'bytes';",
            "const spec = (required, optional, needsRefs) => ({ required, optional, needsRefs });",
            "",
            "/** Body fields per kind, as docs/records.md lists them. */",
            "export const KIND_SPECS = new Map([",
            *rows,
            "]);",
            f"export const SUBJECTLESS_KINDS = {js_list(SUBJECTLESS_KINDS)};",
            "/** Status kinds: lifecycle statements about another record (docs/spec.md step 7). */",
            f"export const STATUS_KINDS = {js_list(STATUS_KINDS)};",
            "/** Person-subject kinds logged in the clear, never as a hash envelope. */",
            f"export const ON_LOG_KINDS = {js_list(ON_LOG_KINDS)};",
            "",
        ]
    )


TARGETS = {
    Path("docs") / "records.md": render,
    Path("node") / "web" / "static" / "verify" / "kinds.js": render_js,
}


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    if sys.argv[1:] == ["--check"]:
        stale = [p for p, f in TARGETS.items() if (root / p).read_text(encoding="utf-8") != f()]
        sys.exit(1 if stale else 0)
    for p, f in TARGETS.items():
        (root / p).write_text(f(), encoding="utf-8")
