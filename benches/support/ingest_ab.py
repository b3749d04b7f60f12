#!/usr/bin/env python3
"""Interleaved A/B of two claude-tracker binaries on the ingest benchmark's corpus.

`cargo bench --bench ingest` first (it writes the corpus to target/bench-ingest), then:

    python3 benches/support/ingest_ab.py OLD_BINARY NEW_BINARY [RUNS]

Each run ingests the whole corpus into a fresh database, then once more unchanged; the two binaries
alternate (and swap order every run), so the page cache and the machine's load treat them alike. Prints
the median and the minimum of each. Used for issue 16's "no slower than today by more than 5%".
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "bench-ingest")


def timed(binary, db, args):
    env = {"HOME": os.path.join(ROOT, "home"), "CLAUDE_CONFIG_DIR": ROOT, "TZ": "UTC"}
    start = time.perf_counter()
    subprocess.run([binary, "--db", db, "--config", os.path.join(ROOT, "none.toml")] + args,
                   env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    binaries = {"old": sys.argv[1], "new": sys.argv[2]}
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 31
    results = {name: {"first": [], "rerun": []} for name in binaries}
    for run in range(runs):
        order = list(binaries.items()) if run % 2 == 0 else list(reversed(binaries.items()))
        for name, binary in order:
            db = os.path.join(ROOT, "ab-%s.db" % name)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            results[name]["first"].append(timed(binary, db, ["ingest"]))
            results[name]["rerun"].append(timed(binary, db, ["ingest"]))
    for name, times in results.items():
        print("%s: first ingest median %.1f ms (min %.1f), unchanged re-run median %.1f ms" % (
            name, statistics.median(times["first"]) * 1e3, min(times["first"]) * 1e3,
            statistics.median(times["rerun"]) * 1e3))
    ratio = statistics.median(results["new"]["first"]) / statistics.median(results["old"]["first"])
    print("new / old, first ingest medians: %.3f" % ratio)


if __name__ == "__main__":
    main()
