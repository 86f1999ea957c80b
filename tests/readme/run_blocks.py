#!/usr/bin/env python3
"""Runs the ```sh blocks of the given Markdown files as a new user would: in order, each file in
its own fresh copy of the repository (its tracked files only), with nothing installed but what
the blocks install themselves.

A comment on the line before a block changes how it runs:
  <!-- readme-test: skip: REASON -->   not run; the reason is printed (and required)
  <!-- readme-test: background -->     its first command is a server: started in the
                                       background, the other commands retried until they all
                                       succeed (at most BACKGROUND_WAIT seconds), then stopped;
                                       its ports (8080, and 9090 for an admin
                                       listener) are replaced by free ones

Environment for the blocks: CARGO_TARGET_DIR is the repository's target/ (builds are reused),
CARGO_INSTALL_ROOT a scratch directory first on PATH (nothing lands in ~/.cargo/bin),
and FUZZ_SECONDS as given (CI: 10). Nothing else: a block that reads a variable sets it itself
(SECRET_KEY_BASE is removed from the environment, so a block that forgets it fails).

Before running anything, every `cargo install` line of the files must say `--locked` (else the
install resolves newer dependencies than Cargo.lock), and no ```rust block may read a file of
this repository by a relative path (pasted into a new project it fails with NotFound; rustdoc
runs the README's blocks from the repository, where it would pass).

Usage: tests/readme/run_blocks.py README.md docs/ROTATION.md ...
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BACKGROUND_WAIT = 600
DIRECTIVE = re.compile(r"<!--\s*readme-test:\s*(skip:\s*(?P<reason>.+?)|background)\s*-->")
REPO = Path(__file__).resolve().parents[2]


def blocks(markdown):
    """(line number, directive, reason, code) of each ```sh block."""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start = i + 1
            end = start
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            match = DIRECTIVE.search(lines[i - 1]) if i > 0 else None
            kind = None
            reason = None
            if match:
                kind = "skip" if match.group("reason") else "background"
                reason = match.group("reason")
            yield start, kind, reason, "\n".join(lines[start:end]) + "\n"
            i = end
        i += 1


def fresh_copy(into):
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = REPO / os.fsdecode(name)
        if source.is_file():
            target = into / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bash(code, cwd, env, **kwargs):
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=cwd, env=env, capture_output=True, text=True, **kwargs
    )


def run_background(code, cwd, env):
    port = str(free_port())
    code = code.replace("8080", port).replace("9090", str(free_port()))
    server, _, rest = code.partition("\n")
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", "exec " + server],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + BACKGROUND_WAIT
        while True:
            # Until the server answers, curl fails (connection refused) and so does the block.
            result = bash(rest, cwd, env)
            if result.returncode == 0:
                return result
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.poll() is not None else ""
                result.stderr += "\nserver: " + output[-4000:]
                result.returncode = result.returncode or 1
                return result
            time.sleep(1)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except ProcessLookupError:
            pass  # the server already stopped (its output is in the report)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def unlocked_installs(paths):
    """`path:line` of each `cargo install` line without `--locked`."""
    found = []
    for path in paths:
        for number, line in enumerate((REPO / path).read_text().splitlines(), 1):
            if re.search(r"\bcargo install\b", line) and "--locked" not in line:
                found.append(f"{path}:{number}")
    return found


def repository_paths_in_rust(paths):
    """`path:line` of each ```rust block line that names a file of this repository."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, check=True, capture_output=True,
                             text=True).stdout.split()
    found = []
    for path in paths:
        inside = False
        for number, line in enumerate((REPO / path).read_text().splitlines(), 1):
            if line.strip().startswith("```"):
                inside = line.strip() == "```rust"
                continue
            if inside and any(f'"{name}"' in line for name in tracked):
                found.append(f"{path}:{number}")
    return found


def main(paths):
    ran = skipped = 0
    failed = []
    unlocked = unlocked_installs(paths)
    if unlocked:
        print("readme: FAILED: `cargo install` without --locked at " + ", ".join(unlocked))
        return 1
    relative = repository_paths_in_rust(paths)
    if relative:
        print("readme: FAILED: Rust blocks read a file of this repository (not there in a new "
              "project) at " + ", ".join(relative))
        return 1
    with tempfile.TemporaryDirectory(prefix="readme-") as scratch:
        scratch = Path(scratch)
        env = dict(os.environ)
        env["CARGO_TARGET_DIR"] = str(Path(env.get("CARGO_TARGET_DIR") or REPO / "target").resolve())
        env["CARGO_INSTALL_ROOT"] = str(scratch / "cargo")
        env["PATH"] = f"{scratch / 'cargo' / 'bin'}{os.pathsep}{env['PATH']}"
        env.pop("SECRET_KEY_BASE", None)
        env.setdefault("FUZZ_SECONDS", "60")
        for index, path in enumerate(paths):
            clone = scratch / f"clone-{index}"
            fresh_copy(clone)
            for line, kind, reason, code in blocks((REPO / path).read_text()):
                where = f"{path}:{line}"
                if kind == "skip":
                    print(f"readme: skip {where}: {reason}", flush=True)
                    skipped += 1
                    continue
                started = time.monotonic()
                if kind == "background":
                    result = run_background(code, clone, env)
                else:
                    result = bash(code, clone, env)
                took = time.monotonic() - started
                ran += 1
                if result.returncode == 0:
                    print(f"readme: ok {where} ({took:.0f} s)", flush=True)
                else:
                    failed.append(where)
                    print(f"readme: FAILED {where} (exit {result.returncode})\n"
                          f"--- block\n{code}--- stdout\n{result.stdout[-4000:]}"
                          f"--- stderr\n{result.stderr[-4000:]}", flush=True)
    print(f"readme: {ran} blocks ran, {skipped} skipped, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
