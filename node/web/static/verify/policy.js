// The one shape of trust the verifier asks (docs/spec.md §3 steps 2, 4 and 6), whichever
// file it came from (trust.js: credex-trust/1; manifest.js: a federation manifest chain).

import { equal } from './bytes.js';

/** A policy object over plain lists (what both trust forms reduce to). */
export function makePolicy({ kind, logs, issuers, witnessesFor, quorumFor, info = {} }) {
  return {
    kind,
    info,
    logs,
    issuers,
    issuersForKid: (kid) => issuers.filter((i) => equal(i.kid, kid)),
    logForKid: (kid) => logs.find((g) => equal(g.kid, kid)) ?? null,
    witnessesFor,
    quorumFor,
  };
}

