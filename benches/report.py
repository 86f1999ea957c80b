#!/usr/bin/env python3
"""Prints the README's performance tables from `cargo bench --bench compare` runs.

With no argument it reads the last run (criterion's `new` results). On a machine whose
neighbours make single runs vary, save several runs and give their names:

    for i in 1 2 3; do cargo bench --features rails --bench compare -- --save-baseline run$i; done
    python3 benches/report.py run1 run2 run3

Each time is then the median over the runs, and each ratio the median of the per-run ratios
(a ratio is only ever taken between two benches of the same run)."""
import json
import os
import pathlib
import statistics
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
# cargo reads a relative CARGO_TARGET_DIR against the directory it runs in; so does this.
ROOT = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target").resolve() / "criterion"
RUNS = sys.argv[1:] or ["new"]


def times(group, name):
    """Median ns/op of `group/name` in each run."""
    return [json.loads((ROOT / group / name / run / "estimates.json").read_text())
            ["median"]["point_estimate"] for run in RUNS]


def ns(group, name):
    return statistics.median(times(group, name))


def ratio(a, b):
    """Median over the runs of a ÷ b, each taken within one run."""
    return statistics.median(x / y for x, y in zip(times(*a), times(*b)))


runs = f"median of {len(RUNS)} runs" if len(RUNS) > 1 else "one run"
print(f"({runs})\n")
print("| group | operation | tokenring | floor | jsonwebtoken | tokenring / floor | jsonwebtoken / tokenring |")
print("|---|---|---:|---:|---:|---:|---:|")
for group in ["small", "1KiB"]:
    for op in ["sign", "verify"]:
        ours, floor, jwt = ((group, f"{who}_{op}") for who in ["tokenring", "floor", "jwt"])
        print(f"| {group} | {op} | {ns(*ours):.0f} ns | {ns(*floor):.0f} ns | {ns(*jwt):.0f} ns "
              f"| {ratio(ours, floor):.2f}× | {ratio(jwt, ours):.2f}× |")
one, many = ("small", "tokenring_verify"), ("small", "tokenring_verify_64keys")
print(f"\nVerify with a 64-key keyring: {ns(*many):.0f} ns against {ns(*one):.0f} ns with one key "
      f"({(ratio(many, one) - 1) * 100:+.1f}%).")
forged = ("small", "tokenring_verify_forged")
if (ROOT / "small" / forged[1]).exists():
    print(f"A forged token (a wrong tag) is refused in {ns(*forged):.0f} ns, "
          f"{ratio(forged, one):.2f}× a verify.")

if (ROOT / "rails").exists():
    verify, sign = ("rails", "native_verify"), ("rails", "native_sign")
    print(f"\nRails formats against native tokens of the same value (verify {ns(*verify):.0f} ns, "
          f"sign {ns(*sign):.0f} ns), same runs:")
    print("\n| operation | time | ÷ native |")
    print("|---|---:|---:|")
    for name in ["sha256_current_verify", "sha256_current_sign", "sha1_legacy_verify",
                 "sha1_legacy_sign", "gcm_decrypt", "cbc_sha1_decrypt", "gcm_encrypt",
                 "trial_1_accepted", "trial_4_accepted", "trial_16_accepted"]:
        native = sign if name.endswith(("_sign", "_encrypt")) else verify
        print(f"| {name} | {ns('rails', name):.0f} ns | {ratio(('rails', name), native):.2f}× |")

if (ROOT / "metrics").exists():
    plain, recorded = ("metrics", "verify_no_recorder"), ("metrics", "verify_prometheus")
    print(f"\nVerify counting into a Prometheus recorder: {ns(*recorded):.0f} ns against "
          f"{ns(*plain):.0f} ns with no recorder ({(ratio(recorded, plain) - 1) * 100:+.1f}%).")
