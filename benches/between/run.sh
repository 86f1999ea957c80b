#!/usr/bin/env bash
# Times a verify and a forged-token refusal built from two revisions of tokenring, run in
# turn, since benches/ratio.rs can only compare within one build. Each revision is checked
# out into a temporary worktree and linked into benches/between/loop.rs (default features
# off); the two programs then alternate ROUNDS times, OPS calls each, and the means are
# printed with their ratio. With valgrind on PATH it also counts instructions per call
# (callgrind, 20,000 calls less none): deterministic where times on a shared machine are not,
# though valgrind hashes in software where the CPU has SHA instructions.
#
#   bash benches/between/run.sh [BASE [HEAD]] [--rounds R] [--ops N]
#
# BASE defaults to 74d769d (before the performance round), HEAD to HEAD.
set -euo pipefail

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
revs=() rounds=10 ops=3000000
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    *) revs+=("$1"); shift ;;
  esac
done
base=${revs[0]:-74d769d} head=${revs[1]:-HEAD}

tmp=$(mktemp -d)
cleanup() {
  for side in base head; do
    git -C "$repo" worktree remove --force "$tmp/src-$side" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

build() { # side rev
  local side=$1 rev=$2 dir=$tmp/loop-$1
  git -C "$repo" worktree add --quiet --detach "$tmp/src-$side" "$rev"
  mkdir -p "$dir/src"
  cp "$repo/benches/between/loop.rs" "$dir/src/main.rs"
  # The revision's own lock, so both sides build with the versions that revision pinned.
  cp "$tmp/src-$side/Cargo.lock" "$dir/"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "between-loop"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
tokenring = { path = "$tmp/src-$side", default-features = false }
serde = { version = "1", features = ["derive"] }

[workspace]
TOML
  echo "building $side ($rev)" >&2
  CARGO_TARGET_DIR=$tmp/target-$side cargo build --quiet --release --manifest-path "$dir/Cargo.toml"
  cp "$tmp/target-$side/release/between-loop" "$tmp/$side"
}
build base "$base"
build head "$head"

echo "| operation | $base | $head | $head ÷ $base |"
echo "|---|---:|---:|---:|"
for what in verify forged; do
  sum_base=0 sum_head=0
  for ((i = 0; i < rounds; i++)); do
    sum_base=$(python3 -c "print($sum_base + $("$tmp/base" "$what" "$ops"))")
    sum_head=$(python3 -c "print($sum_head + $("$tmp/head" "$what" "$ops"))")
  done
  python3 -c "b, h = $sum_base / $rounds, $sum_head / $rounds; print(f'| $what, ns per call (mean of $rounds) | {b:.0f} | {h:.0f} | {h / b:.2f}× |')"
done

if command -v valgrind > /dev/null; then
  count() { # binary what calls
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" "$3" 2>&1 |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  for what in verify forged; do
    per_call=()
    for side in base head; do
      per_call+=($(( ($(count "$tmp/$side" "$what" 20000) - $(count "$tmp/$side" none 1)) / 20000 )))
    done
    python3 -c "b, h = ${per_call[0]}, ${per_call[1]}; print(f'| $what, instructions per call | {b:,} | {h:,} | {h / b:.2f}× |')"
  done
else
  echo "(valgrind not on PATH: no instruction counts)"
fi
