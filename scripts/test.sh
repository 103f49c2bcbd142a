#!/usr/bin/env bash
# Runs every test project and ends with one line: "N passed, N failed".
# Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~Gguf).
set -uo pipefail
cd "$(dirname "$0")/.."
# The OpenAI-compatibility tests drive the official openai npm client (pinned by package-lock.json).
if [[ ! -d tests/js/node_modules/openai ]]; then
  npm ci --prefix tests/js --no-audit --no-fund
fi
results=$(mktemp -d)
dotnet test Promptd.slnx -c Release --logger trx --results-directory "$results" "$@"
rc=$?
passed=0 failed=0 skipped=0 files=0
for f in "$results"/*.trx; do
  [[ -e $f ]] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  attr() { sed -nE "s/.* $1=\"([0-9]+)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(attr passed)))
  failed=$((failed + $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
  skipped=$((skipped + $(attr total) - $(attr executed)))
done
# A crashed test host or a build error leaves no failed test behind: count it as one failure.
if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "($skipped skipped)"
echo "$passed passed, $failed failed"
exit $rc
