// The manifest pin a page verifies against (the hash of the federation manifest's version 1).
// The user's pin (?pin= or a stored one) wins over the page's; the first one seen is kept
// (trust on first use, per host), so a server that later changes the pin it serves does not
// change what this browser checks against.

/** The pin to use: ?pin=, else the one stored for this host, else (stored now) the page's. */
export function pinFor(pagePin) {
  const url = new URLSearchParams(window.location.search).get('pin');
  if (url) return url;
  const key = `credex-pin:${window.location.host}`;
  let stored = null;
  try {
    stored = window.localStorage.getItem(key);
    if (stored === null && pagePin) window.localStorage.setItem(key, pagePin);
  } catch {
    // storage disabled: the page's pin
  }
  return stored ?? pagePin;
}
