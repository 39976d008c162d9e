#!/usr/bin/env python3
"""Times `ihub serve` from process start to its `listening on` line, alternating
`--memory map` and `--memory huge-pages` (docs/OPERATIONS.md, "Memory: map or huge-pages").

usage: scripts/serve-start-time.py IHUB DATA_DIR POLICY_DIR [RUNS]

Prints one line per start: the mode, the milliseconds, and the server's `event=store_opened`
fields (open_ms, anon_huge_pages_kib). Each server is stopped with SIGTERM before the next.
"""
import signal
import subprocess
import sys
import time


def start(ihub, data, policies, mode):
    began = time.monotonic()
    process = subprocess.Popen([ihub, "serve", "--data", data, "--policies", policies, "--listen", "127.0.0.1:0",
                                "--loops", "2", "--memory", mode], stderr=subprocess.PIPE, text=True)
    opened, elapsed = "", None
    for line in process.stderr:
        if "event=store_opened" in line:
            opened = line.strip().split("event=store_opened ")[-1]
        if line.startswith("listening on"):
            elapsed = time.monotonic() - began
            break
    process.send_signal(signal.SIGTERM)
    process.wait()
    if elapsed is None:
        sys.exit(f"ihub serve --memory {mode} exited with {process.returncode} before listening")
    return elapsed, opened


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    ihub, data, policies = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) == 5 else 5
    for _ in range(runs):
        for mode in ("map", "huge-pages"):
            elapsed, opened = start(ihub, data, policies, mode)
            print(f"{mode:10s} {elapsed * 1000:8.1f} ms  {opened}")


main()
