#!/bin/bash
# Tracing on the host (no kmq.ko): kmqd-trace attached to the USDT probes of
# a known fast-path workload; the counters read back through bpftool equal
# the workload, the histogram holds one sample per receive, kmqctl trace
# shows each event and kmqctl top reports the queue. Needs root (BPF);
# exits 77 (skip) without it.
set -u
B=${B:-build}
N=${N:-40} M=${M:-25} K=${K:-10}
Q=trace-host-$$
PIN=/sys/fs/bpf/kmq-test-$$
fail() { echo "FAIL: $*"; cleanup; exit 1; }
cleanup() {
	[ -n "${TPID:-}" ] && kill "$TPID" 2>/dev/null
	[ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
	rm -rf "$TMP"
}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "SKIP: no BTF"; exit 77; }
TMP=$(mktemp -d)
W=$B/tests/trace/usdt_workload

# The loader, pinned in a private directory, attached to the workload.
$B/bin/kmqd-trace --pin-dir "$PIN" --fastpath --usdt "$W" >"$TMP/loader.out" 2>"$TMP/loader.err" &
LPID=$!
for _ in $(seq 100); do grep -q ready "$TMP/loader.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/loader.out" || { cat "$TMP/loader.err"; fail "loader did not start"; }
for m in counters latency control events; do
	[ -e "$PIN/$m" ] || fail "no pin $PIN/$m"
done
[ "$(stat -c %a "$PIN/counters")" = 640 ] || fail "pin mode is not 0640"

# Someone traces: the per-message events are written while this runs.
$B/bin/kmqctl trace --pin-dir "$PIN" --queue "$Q" --json --duration 20 \
	--count $((N + M + 2 * K)) >"$TMP/trace.out" 2>"$TMP/trace.err" &
TPID=$!
for _ in $(seq 50); do grep -q tracing "$TMP/trace.err" 2>/dev/null && break; sleep 0.1; done

"$W" "$Q" "$N" "$M" "$K" || fail "workload"
wait "$TPID"; TPID=

bpftool -j map dump pinned "$PIN/counters" >"$TMP/counters.json" || fail "bpftool counters"
bpftool -j map dump pinned "$PIN/latency" >"$TMP/latency.json" || fail "bpftool latency"
python3 - "$Q" "$N" "$M" "$K" "$TMP" <<'PY' || fail "counters"
import json, sys
q, n, m, k, tmp = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5]
rows = [e["formatted"] for e in json.load(open(tmp + "/counters.json"))]
mine = [r for r in rows if r["key"]["name"] == q]
assert len(mine) == 1, rows
c = mine[0]["value"]
want = {"sent": n, "received": m + k, "released": k, "bytes_sent": 5 * n,
        "bytes_received": 5 * (m + k), "deleted": 0, "expired": 0,
        "dead_lettered": 0, "dropped": 0}
for f, v in want.items():
    assert c[f] == v, (f, c[f], v)
hist = [e["formatted"] for e in json.load(open(tmp + "/latency.json"))
        if e["formatted"]["key"]["key"]["name"] == q]
assert len(hist) == 1 and hist[0]["key"]["what"] == 0, hist
h = hist[0]["value"]
assert h["count"] == m + k and sum(h["slot"]) == m + k, h
ev = [json.loads(l) for l in open(tmp + "/trace.out")]
kinds = {}
for e in ev:
    assert e["queue"] == q and e["source"] == "libkmq", e
    kinds[e["event"]] = kinds.get(e["event"], 0) + 1
assert kinds == {"send": n, "receive": m + k, "release": k}, kinds
print("counters, histogram and %d trace events as expected" % len(ev))
PY

# kmqctl top sees the queue with its totals.
$B/bin/kmqctl top --pin-dir "$PIN" --once --interval 100 --json >"$TMP/top.json" || fail "kmqctl top"
python3 - "$Q" "$N" "$TMP/top.json" <<'PY' || fail "kmqctl top output"
import json, sys
q, n = sys.argv[1], int(sys.argv[2])
t = json.load(open(sys.argv[3]))
r = [x for x in t["queues"] if x["name"] == q]
assert len(r) == 1 and r[0]["sent"] == n, r
assert r[0]["latency"]["send_to_receive"]["count"] > 0
PY
$B/bin/kmqctl top --pin-dir "$PIN" --iterations 0 >/dev/null 2>&1 && fail "top took --iterations 0"
$B/bin/kmqctl trace --pin-dir relative >/dev/null 2>&1 && fail "trace took a relative --pin-dir"

# A clean stop unpins.
kill "$LPID"; wait "$LPID"; LPID=
[ -e "$PIN" ] && fail "pins left after a clean stop"
cleanup
echo "PASS: host tracing (USDT): N=$N M=$M K=$K"
