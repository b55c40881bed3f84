"""Regenerate docs/records.md from credex.ledger.record.KIND_SPECS (a test checks it)."""

from __future__ import annotations

import sys
from pathlib import Path

from credex.ledger.record import KIND_SPECS, MAX_RECORD_BYTES

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


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "records.md"
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if target.read_text(encoding="utf-8") == render() else 1)
    target.write_text(render(), encoding="utf-8")
