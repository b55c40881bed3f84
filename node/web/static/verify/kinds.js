// Generated from ledger/record.py KIND_SPECS by scripts/gen_records_doc.py;
// a test fails if it is stale. docs/records.md is the same table in prose.
const T = 'text';
const I = 'int';
const L = 'list';
const M = 'map';
const B = 'bytes';
const spec = (required, optional, needsRefs) => ({ required, optional, needsRefs });

/** Body fields per kind, as docs/records.md lists them. */
export const KIND_SPECS = new Map([
  ["audit.check", spec({"asker": T, "purpose": T, "rule_version": I, "result": T}, {"authorisation": T}, true)],
  ["audit.lookup", spec({"client": T, "client_sha256": T, "purpose": T, "authorisation": T}, {"records": I, "withheld": I, "lookup_id": T}, false)],
  ["commitment", spec({"commitment_type": T, "matter": T, "made_on": T}, {"deadline": T, "text_hash": B}, false)],
  ["commitment.breach", spec({"commitment_type": T, "matter": T, "breached_on": T, "consequence": T}, {"deadline": T, "provenance": T}, true)],
  ["commitment.outcome", spec({"outcome": T, "verified_on": T}, {"verified_by": T}, true)],
  ["court.dishonest-debtor", spec({"court": T, "case_no": T, "filed_on": T, "listed_on": T}, {"obligation": T, "performance": T, "circumstance": T, "period_years": I, "subject_name": T, "court_uscc": T, "basis_doc_issuer": T, "basis_doc_no": T, "state": T, "deferred_until": T, "removed_on": T}, false)],
  ["derived.decision", spec({"rule": T, "version": I, "as_of": I, "provenance": T, "facts": M, "because": T, "purpose": T, "result": T}, {}, true)],
  ["derived.grade", spec({"rule": T, "version": I, "as_of": I, "provenance": T, "facts": M, "because": T, "scheme": T, "grade": T}, {}, true)],
  ["derived.report", spec({"format": T, "items": M}, {"provenance": T}, true)],
  ["derived.score", spec({"scheme": T, "level": T}, {"score": I, "band": T, "provenance": T}, true)],
  ["federation.manifest", spec({"federation": T, "version": I, "hash": B}, {}, false)],
  ["license.admin", spec({"decision_no": T, "decision_date": T, "authority": T, "authority_uscc": T}, {"subject_name": T, "subject_category": T, "doc_name": T, "license_category": T, "license_name": T, "license_no": T, "content": T, "valid_from_date": T, "valid_to_date": T, "state": T, "source_unit": T, "source_unit_uscc": T, "note": T, "subject_flags": L}, false)],
  ["lifecycle.objection", spec({"raised_on": T}, {"grounds": T, "due_by": T, "filed_by": T, "channel": T}, true)],
  ["lifecycle.objection-resolved", spec({"outcome": T, "closed_on": T}, {}, true)],
  ["lifecycle.repair", spec({"route": T, "decided_on": T}, {"channel": T}, true)],
  ["lifecycle.supersession", spec({"superseded_on": T}, {"reason": T}, true)],
  ["lifecycle.withdrawal", spec({"reason": T, "withdrawn_on": T}, {}, true)],
  ["list.black", spec({"list_name": T, "authority": T, "listed_on": T, "reason": T}, {"basis_doc_no": T, "list_until": T, "measures": L, "removed_on": T, "subject_name": T}, false)],
  ["list.red", spec({"list_name": T, "authority": T, "listed_on": T}, {"basis": T, "basis_doc_no": T, "incentives": L, "list_until": T, "removed_on": T, "subject_name": T}, false)],
  ["penalty.admin", spec({"decision_no": T, "decision_date": T, "penalty_types": L, "content": T, "authority": T, "authority_uscc": T}, {"subject_name": T, "subject_category": T, "violation_type": T, "facts": T, "basis": T, "fine_wan": T, "confiscation_wan": T, "license_suspended": T, "penalty_valid_until": T, "publicity_until": T, "source_unit": T, "source_unit_uscc": T, "severity": T, "note": T, "subject_flags": L, "regime": T}, false)],
  ["policy.conversion", spec({"name": T, "version": I, "rules": M}, {}, false)],
  ["policy.rule", spec({"name": T, "version": I, "rules": M}, {}, false)],
  ["rating.enterprise", spec({"scheme": T, "grade": T, "rated_on": T, "rater": T}, {"score": I, "period": T, "subject_flags": L}, false)],
  ["report.hk", spec({"agency": T, "report_id": T, "report_date": T, "company_name": T}, {"rating": T, "items": M}, false)],
  ["score.city", spec({"scheme": T, "score": I, "band": T, "as_of": T}, {"level": T, "consent_ref": T}, false)],
]);
export const SUBJECTLESS_KINDS = ["federation.manifest", "policy.conversion", "policy.rule"];
/** Status kinds: lifecycle statements about another record (docs/spec.md step 7). */
export const STATUS_KINDS = ["commitment.outcome", "lifecycle.objection", "lifecycle.objection-resolved", "lifecycle.repair", "lifecycle.supersession", "lifecycle.withdrawal"];
/** Person-subject kinds logged in the clear, never as a hash envelope. */
export const ON_LOG_KINDS = ["audit.lookup", "commitment.outcome", "federation.manifest", "lifecycle.objection", "lifecycle.objection-resolved", "lifecycle.repair", "lifecycle.supersession", "lifecycle.withdrawal", "policy.conversion", "policy.rule"];
