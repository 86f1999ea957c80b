#!/usr/bin/env bash
# Checks that a test whose program is missing is never a silent pass: the CLI's etcd tests
# are run with etcd off PATH (nothing else on it) three ways — by default they fail naming
# tests/setup.sh; with TOKENRING_SKIP_MISSING=1 they pass and print a SKIPPED line past the
# harness's capture; under CI=true they fail even with the opt-out. .ci/run runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(cargo test -q -p tokenring-cli --all-features --test etcd --no-run --message-format=json \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "etcd":
        print(m["executable"])')
out=$(mktemp)
trap 'rm -f "$out"' EXIT
expect() { # WANT(pass|fail) PATTERN ENV…
  local want=$1 pattern=$2 code=0
  shift 2
  env -i PATH=/nonexistent "$@" "$binary" >"$out" 2>&1 || code=$?
  if [[ $want == pass && $code != 0 || $want == fail && $code == 0 ]] || ! grep -q -- "$pattern" "$out"; then
    echo "tests/skips.sh: with $* the etcd tests should $want and print '$pattern'; exit $code:" >&2
    tail -20 "$out" >&2
    exit 1
  fi
}
expect fail "tests/setup.sh installs every tool"
expect pass "\*\*\* SKIPPED" TOKENRING_SKIP_MISSING=1
expect fail "CI must run every test" TOKENRING_SKIP_MISSING=1 CI=true
echo "tests/skips.sh: missing programs fail, or skip loudly when asked, and never skip in CI"
