#!/usr/bin/env python3
"""Where one goroutine's time goes, from a Go execution trace.

usage: go tool trace -d=parsed TRACE | scripts/goroutine_states.py FUNCTION

FUNCTION names a function on the goroutine's stack, e.g.
'sqlite.(*Store).writer' for idpool's SQLite writer. The trace comes from
a server started with --debug-listen, e.g.
    curl -o TRACE 'http://127.0.0.1:6060/debug/pprof/trace?seconds=1'
while a load runs. Prints the share of the traced time the goroutine
spent running, in system calls (and in the long ones, over 50 µs: fsync
and the like), runnable but waiting for a processor (after it yielded or
was preempted, and after a system call), and blocked.
"""

import re
import sys
from collections import defaultdict

LONG_NS = 50_000


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    needle = sys.argv[1] + " @"
    event = re.compile(r"^M=\S+ P=\S+ G=(-?\d+) ")
    transition = re.compile(r"Time=(\d+) GoID=(\d+) (\w+)->(\w+)")
    # One pass: keep every transition, find the goroutine by its stacks.
    transitions = defaultdict(list)
    seen = defaultdict(int)
    current = None
    for line in sys.stdin:
        if line.startswith("M="):
            m = event.match(line)
            current = m.group(1) if m else None
            t = transition.search(line) if "StateTransition" in line else None
            if t:
                transitions[t.group(2)].append((int(t.group(1)), t.group(3), t.group(4)))
        elif needle in line and current is not None:
            seen[current] += 1
    if not seen:
        sys.exit(f"no goroutine ran {sys.argv[1]} in this trace")
    gid = max(seen, key=seen.get)
    ts = transitions.get(gid, [])
    if len(ts) < 2:
        sys.exit(f"goroutine {gid}: too few state changes traced")
    span = ts[-1][0] - ts[0][0]
    time_in = defaultdict(int)
    long_calls, long_ns = 0, 0
    # Runnable spells by the state that preceded them.
    runnable_after = defaultdict(int)
    for (t0, frm, state), (t1, _, _) in zip(ts, ts[1:]):
        d = t1 - t0
        time_in[state] += d
        if state == "Syscall" and d > LONG_NS:
            long_calls += 1
            long_ns += d
        if state == "Runnable":
            runnable_after[frm] += d

    print(f"goroutine {gid} over {span / 1e9:.3f} s of trace ({len(ts)} state changes)")
    for state in ("Running", "Syscall", "Runnable", "Waiting"):
        print(f"  {state:9} {100 * time_in[state] / span:5.1f} %")
    if long_calls:
        print(f"  system calls over 50 µs: {long_calls} ({long_calls / (span / 1e9):.0f}/s), "
              f"{long_ns / long_calls / 1e3:.0f} µs each, {100 * long_ns / span:.1f} % of the time")
    for frm, d in sorted(runnable_after.items(), key=lambda x: -x[1]):
        print(f"  runnable after {frm}: {100 * d / span:.1f} %")


if __name__ == "__main__":
    main()
