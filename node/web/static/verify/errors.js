// The credex error tree (docs/spec.md names these classes), for the in-browser verifier.
//
// Every failure is a CredexError with a stable `code`, a one-line lowercase message shaped
// "component: what failed: expected X, got Y", and, once a verification step fails, the
// `step` number (docs/spec.md §3). Messages carry hashes, indices and key ids only: never
// key material or a record body.

export class CredexError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
    this.step = null;
  }
}

const define = (name, parent, code) => {
  const cls = { [name]: class extends parent {} }[name];
  cls.prototype.code = code;
  return cls;
};

CredexError.prototype.code = 'error';

export const FormatError = define('FormatError', CredexError, 'format');
export const CborError = define('CborError', FormatError, 'cbor');
export const NonDeterministicCborError = define(
  'NonDeterministicCborError',
  CborError,
  'cbor_nondeterministic',
);
export const CoseError = define('CoseError', FormatError, 'cose');
export const NotEnvelopedError = define('NotEnvelopedError', CoseError, 'not_enveloped');
export const RecordError = define('RecordError', FormatError, 'record');
export const UnknownKindError = define('UnknownKindError', RecordError, 'unknown_kind');
export const IdentifierError = define('IdentifierError', FormatError, 'identifier');
export const OversizeError = define('OversizeError', FormatError, 'oversize');
export const NoteError = define('NoteError', FormatError, 'note');
export const IndexFormatError = define('IndexFormatError', FormatError, 'index_format');
export const PreimageMismatchError = define(
  'PreimageMismatchError',
  FormatError,
  'preimage_mismatch',
);
export const VerificationError = define('VerificationError', CredexError, 'verification');
export const SignatureError = define('SignatureError', VerificationError, 'signature');
export const InclusionProofError = define(
  'InclusionProofError',
  VerificationError,
  'inclusion_proof',
);
export const ConsistencyProofError = define(
  'ConsistencyProofError',
  VerificationError,
  'consistency_proof',
);
export const CheckpointError = define('CheckpointError', VerificationError, 'checkpoint');
export const DerivationMismatchError = define(
  'DerivationMismatchError',
  VerificationError,
  'derivation_mismatch',
);
export const IndexProofError = define('IndexProofError', VerificationError, 'index_proof');
export const ReportIncompleteError = define('ReportIncompleteError', VerificationError, 'report_incomplete');
export const ReportSubjectError = define('ReportSubjectError', VerificationError, 'report_subject');
export const ReportReasonError = define('ReportReasonError', VerificationError, 'report_reason');
export const PolicyError = define('PolicyError', CredexError, 'policy');
export const UntrustedKeyError = define('UntrustedKeyError', PolicyError, 'untrusted_key');
export const KeyValidityError = define('KeyValidityError', PolicyError, 'key_validity');
export const KindNotAuthorisedError = define(
  'KindNotAuthorisedError',
  PolicyError,
  'kind_not_authorised',
);
export const WrongLogError = define('WrongLogError', PolicyError, 'wrong_log');
export const RegionMismatchError = define('RegionMismatchError', PolicyError, 'region_mismatch');
export const LogTimeError = define('LogTimeError', PolicyError, 'log_time');
export const StatusNotProvenError = define('StatusNotProvenError', PolicyError, 'status_not_proven');
export const OutOfRangeError = define('OutOfRangeError', CredexError, 'out_of_range');
export const NotFoundError = define('NotFoundError', CredexError, 'not_found');
export const BodyNotHeldError = define('BodyNotHeldError', NotFoundError, 'body_not_held');
