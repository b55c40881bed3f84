// When an entry was logged, as attested, and whether the signing key was valid then
// (ledger/logtime.py, docs/spec.md §3 step 2). Times are Unix seconds as BigInt.
//
// The logged window is the attestation's [logged_after, logged_by], narrowed by the
// witnesses: the quorum-th earliest cosignature time. A key retired at R cannot have signed
// an entry logged after R + tolerance, nor one whose window opens at F an entry logged
// before F - tolerance. CLOCK_TOLERANCE is two clock skews (two clocks are compared).

import { LogTimeError } from './errors.js';

export const MAX_CLOCK_SKEW = 300n;
export const CLOCK_TOLERANCE = 2n * MAX_CLOCK_SKEW;

/** {after, by, source}: after/by BigInt or null (no bound); source names who says so. */
export const loggedWindow = (after, by, source) => ({ after, by, source });

/** The window with an extra upper bound `by` (e.g. a witness timestamp). */
export function narrowed(window, by, source) {
  if (by === null || (window.by !== null && window.by <= by)) return window;
  return loggedWindow(window.after, by, source);
}

/** LogTimeError unless the issuer key's window [validFrom, validUntil) meets `window`. */
export function requireKeyValidWhenLogged(issuer, window, what) {
  const until = issuer.validUntil === null ? null : BigInt(issuer.validUntil);
  if (until !== null && window.after !== null && window.after - CLOCK_TOLERANCE >= until) {
    throw new LogTimeError(
      `${what}: key of ${JSON.stringify(issuer.issuerId)} was retired at ${until}, but ${window.source} attests the statement was logged after ${window.after} (tolerance ${CLOCK_TOLERANCE} s): a backdated statement`,
    );
  }
  if (window.by !== null && BigInt(issuer.validFrom) > window.by + CLOCK_TOLERANCE) {
    throw new LogTimeError(
      `${what}: key of ${JSON.stringify(issuer.issuerId)} is valid from ${issuer.validFrom}, but ${window.source} attests the statement was logged by ${window.by} (tolerance ${CLOCK_TOLERANCE} s)`,
    );
  }
}
