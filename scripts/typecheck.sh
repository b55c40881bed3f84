#!/usr/bin/env bash
# mypy --strict on the installed package layout. The repository keeps ledger/, node/, ...
# at the top level and maps them into `credex` (pyproject.toml); mypy cannot follow that
# mapping, so this builds the same layout from symlinks in .typecheck/ and checks it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
farm="$root/.typecheck"
rm -rf "$farm"
mkdir -p "$farm/credex"
for f in "$root"/pkg/*.py "$root"/pkg/py.typed; do ln -s "$f" "$farm/credex/$(basename "$f")"; done
for d in ledger node adapters cli; do ln -s "$root/$d" "$farm/credex/$d"; done
if [ -d "$root/proto/credex/v1" ] && ls "$root"/proto/credex/v1/*.py >/dev/null 2>&1; then
  ln -s "$root/proto/credex/v1" "$farm/credex/v1"
fi
cd "$farm"
exec python -m mypy --config-file "$root/pyproject.toml" -p credex
