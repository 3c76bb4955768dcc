#!/bin/bash
# Tracing in the VM (kmq.ko loaded): kmqd-trace on the module's tracepoints
# while kmqctl drives a known SQS workload through the kernel — N sends, M
# receives, K deletes, J lease expirations and one DLQ move (the sends on
# libkmq's fast path, seen by its USDT probes) — then the
# counters bpftool reads from the pins equal those numbers exactly, the
# send->receive histogram holds N samples, and kmqctl trace printed every
# event. Then the USDT check of tests/trace/host.sh, in this kernel too, and
# kmqd's own tracing (tests/trace/kmqd_flow.sh) on both backends.
set -u
export LC_ALL=C.UTF-8
[[ -e /dev/kmq ]] || { echo "SKIP: no /dev/kmq"; exit 77; }
[[ -r /sys/kernel/btf/vmlinux ]] || { echo "SKIP: no BTF"; exit 77; }
B=build
PATH=$PWD/$B/bin:$PATH
Q=trace-vm-q DLQ=trace-vm-dlq
PIN=/sys/fs/bpf/kmq-vmtest
TMP=$(mktemp -d)
fail() { echo "FAIL: $*"; for f in "$TMP"/*.err; do echo "--- $f"; head -c 800 "$f"; done; cleanup; exit 1; }
cleanup() {
	[[ -n ${TPID:-} ]] && kill "$TPID" 2>/dev/null
	[[ -n ${LPID:-} ]] && kill "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
	kmqctl delete-queue "$Q" >/dev/null 2>&1
	kmqctl delete-queue "$DLQ" >/dev/null 2>&1
	rm -rf "$TMP"
}
k() { kmqctl "$@" >"$TMP/out" 2>"$TMP/k.err" || fail "kmqctl $*"; }
. tests/trace/sqs_workload.bash

echo "trace.sh: starting kmqd-trace"
# kmqctl sends on the mapped fast path (libkmq.a linked in): its USDT
# probes count the sends, the tracepoints the rest.
kmqd-trace --pin-dir "$PIN" --fastpath --usdt "$PWD/$B/bin/kmqctl" >"$TMP/loader.out" 2>"$TMP/loader.err" &
LPID=$!
for _ in $(seq 300); do grep -q ready "$TMP/loader.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/loader.out" || fail "loader did not start"
grep -q "10 kmq.ko tracepoints attached" "$TMP/loader.err" || fail "tracepoints not attached"
grep -q "kmqctl: 3 USDT probes attached" "$TMP/loader.err" || fail "USDT probes not attached"

cat "$TMP/loader.err"
echo "trace.sh: starting kmqctl trace"
kmqctl trace --pin-dir "$PIN" --queue "$Q" --json --duration 120 >"$TMP/trace.out" 2>"$TMP/trace.err" &
TPID=$!
for _ in $(seq 100); do grep -q tracing "$TMP/trace.err" 2>/dev/null && break; sleep 0.1; done

echo "trace.sh: workload"
sqs_workload "$Q" "$DLQ"
sleep 4	# the last lease expiry (1 s) and its DLQ move
echo "trace.sh: checking"
kill "$TPID"; wait "$TPID"; TPID=

bpftool -j map dump pinned "$PIN/counters" >"$TMP/counters.json" || fail "bpftool"
bpftool -j map dump pinned "$PIN/latency" >"$TMP/latency.json" || fail "bpftool"
python3 - "$Q" "$N" "$M" "$K" "$J" "$TMP" <<'PY' || fail "counters"
import json, sys
q, n, m, k, j, tmp = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6]
rows = {e["formatted"]["key"]["name"]: e["formatted"]["value"]
        for e in json.load(open(tmp + "/counters.json"))}
c = rows[q]
want = {"sent": n, "received": m, "deleted": k, "expired": j,
        "dead_lettered": 1, "dropped": 0, "created": 1,
        "bytes_sent": 2 * n}
for f, v in want.items():
    assert c[f] == v, (f, c[f], v, c)
hs = {e["formatted"]["key"]["what"]: e["formatted"]["value"]
      for e in json.load(open(tmp + "/latency.json"))
      if e["formatted"]["key"]["key"]["name"] == q}
assert hs[0]["count"] == n and sum(hs[0]["slot"]) == n, hs[0]
assert hs[1]["count"] == k, hs[1]
ev = [json.loads(l) for l in open(tmp + "/trace.out")]
kinds = {}
for e in ev:
    src = "libkmq" if e["event"] == "send" else "kernel"
    assert e["queue"] == q and e["source"] == src, e
    kinds[e["event"]] = kinds.get(e["event"], 0) + 1
want = {"queue-create": 1, "send": n, "lease": m, "delete": k,
        "lease-expired": j, "dead-letter": 1}
assert kinds == want, (kinds, want)
dl = [e for e in ev if e["event"] == "dead-letter"]
assert dl[0]["dlq"].endswith("trace-vm-dlq") and dl[0]["receive_count"] == 2, dl
print("kernel: counters, histograms and %d trace events as expected" % len(ev))
PY
kmqctl top --pin-dir "$PIN" --once --interval 100 >"$TMP/top.txt" || fail "kmqctl top"
grep -q "^$Q " "$TMP/top.txt" || fail "kmqctl top has no row for $Q"
cat "$TMP/top.txt"
kill "$LPID"; wait "$LPID"; LPID=
[[ -e $PIN ]] && fail "pins left after a clean stop"
cleanup
# The fast path's USDT probes, in this kernel.
bash tests/trace/host.sh || exit 1
# kmqd's default tracing on the same SQS workload and on topics: once with
# kmqd serving the queues (its USDT probes), once beside kmq.ko (the
# tracepoints; the topics still kmqd's probes). Then unprivileged readers.
bash tests/trace/kmqd_flow.sh shm || exit 1
bash tests/trace/kmqd_flow.sh kernel || exit 1
bash tests/trace/nonroot.sh || exit 1
echo "PASS: VM tracing"
