#!/bin/bash
# kmqd's default tracing on a known workload, driven by kmqctl: an SQS queue
# (N sends, M leased receives, K deletes, J lease expirations, one DLQ move)
# and topics (P publishes fanned out to three queue subscribers, one of them
# filtered; an exec subscriber that fails its first attempt). The counters
# `bpftool -j map dump pinned` reads must equal those numbers exactly, the
# histograms hold one sample per first receive, delete and delivery, and
# `kmqctl trace --json` shows every event.
#
# Usage: kmqd_flow.sh [shm|kernel]   (default shm)
#   shm:    kmqd serves the queues; the SQS events are kmqd's USDT probes.
#   kernel: kmq.ko serves them (the VM); the SQS events are its
#           tracepoints, the topics' still kmqd's probes.
# Needs root (BPF); exits 77 (skip) without it or, for kernel, /dev/kmq.
set -u
export LC_ALL=C.UTF-8
BACKEND=${1:-shm}
B=${B:-build}
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }
[[ -r /sys/kernel/btf/vmlinux ]] || { echo "SKIP: no BTF"; exit 77; }
case $BACKEND in
shm) SRC=kmqd ;;
kernel) [[ -e /dev/kmq ]] || { echo "SKIP: no /dev/kmq"; exit 77; }; SRC=kernel ;;
*) echo "usage: $0 [shm|kernel]"; exit 2 ;;
esac
TMP=$(mktemp -d)
chmod 755 "$TMP"
PIN=/sys/fs/bpf/kmq-flow-$$
Q=tf-q-$$ DLQ=tf-dlq-$$ T=tf-t-$$ TX=tf-x-$$
S1=tf-s1-$$ S2=tf-s2-$$ S3=tf-s3-$$
export KMQ_BACKEND=$BACKEND KMQ_SOCKET=$TMP/kmqd.sock
PATH=$PWD/$B/bin:$PATH

fail() {
	echo "FAIL ($BACKEND): $*"
	for f in "$TMP"/*.err "$TMP/kmqd.log"; do [[ -s $f ]] && { echo "--- $f"; tail -c 1500 "$f"; }; done
	cleanup
	exit 1
}
cleanup() {
	[[ -n ${TPID:-} ]] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
	if [[ -n ${KPID:-} ]]; then
		for q in "$Q" "$DLQ" "$Q-pre" "$S1" "$S2" "$S3"; do kmqctl delete-queue "$q" >/dev/null 2>&1; done
		for t in "$T" "$TX"; do kmqctl delete-topic --topic "$t" >/dev/null 2>&1; done
		kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
k() { kmqctl "$@" >"$TMP/out" 2>"$TMP/k.err" || fail "kmqctl $*"; }
. tests/trace/sqs_workload.bash

printf '[trace]\npin_dir = %s\nmessages = yes\n' "$PIN" >"$TMP/kmqd.conf"
kmqd -c "$TMP/kmqd.conf" -s "$KMQ_SOCKET" -d "$TMP/state" -b "$BACKEND" 2>"$TMP/kmqd.log" &
KPID=$!
for _ in $(seq 300); do [[ -e $PIN/events ]] && kmqctl list-queues >/dev/null 2>&1 && break; sleep 0.1; done
[[ -e $PIN/events ]] || fail "kmqd did not pin its maps under $PIN"
grep -q "kmqd: 13 USDT probes attached" "$TMP/kmqd.log" || fail "kmqd's own probes ([trace] messages = yes) not all attached"
if [[ $BACKEND == kernel ]]; then
	grep -q "kmq.ko tracepoints attached" "$TMP/kmqd.log" || fail "tracepoints not attached"
fi

# Nobody traces yet: this must not show up in the trace below.
k create-queue "$Q-pre" --capacity 4

kmqctl trace --pin-dir "$PIN" --json --duration 120 >"$TMP/trace.out" 2>"$TMP/trace.err" &
TPID=$!
for _ in $(seq 100); do grep -q tracing "$TMP/trace.err" 2>/dev/null && break; sleep 0.1; done
grep -q tracing "$TMP/trace.err" || fail "kmqctl trace did not start"

# ---- SQS: the sends are delayed 1 s, so that they go through the queue's
# owner (kmqd or kmq.ko) rather than the mapped fast path, which only
# libkmq's fast-path probes would see.
sqs_workload "$Q" "$DLQ" --delay-seconds 1

# ---- Topics: P publishes to T; S1 and S2 take all, S3 only color=red (R
# of them). TX: one publish to an exec handler that fails attempt 1.
P=6 R=2
k create-queue "$S1" --capacity 64
k create-queue "$S2" --capacity 64
k create-queue "$S3" --capacity 64
k create-topic --name "$T"
k create-topic --name "$TX"
k subscribe --topic "$T" --protocol queue --endpoint "$S1"
k subscribe --topic "$T" --protocol queue --endpoint "$S2"
k subscribe --topic "$T" --protocol queue --endpoint "$S3" --attributes '{"FilterPolicy": "{\"color\": [\"red\"]}"}'
cat >"$TMP/handler.sh" <<EOF
#!/bin/sh
echo "\$KMQ_ATTEMPT" >>"$TMP/attempts"
[ "\$KMQ_ATTEMPT" != 1 ]
EOF
chmod 755 "$TMP/handler.sh"
k subscribe --topic "$TX" --protocol exec --endpoint "$TMP/handler.sh" --attributes '{"DeliveryPolicy": "{\"healthyRetryPolicy\": {\"minDelayTarget\": 0, \"maxDelayTarget\": 0, \"numRetries\": 2}}"}'
for i in $(seq $P); do
	color=blue
	((i <= R)) && color=red
	k publish --topic "$T" --message "p$i" --message-attributes "{\"color\": {\"DataType\": \"String\", \"StringValue\": \"$color\"}}"
done
k publish --topic "$TX" --message "x1"
for _ in $(seq 300); do [[ $(wc -l <"$TMP/attempts" 2>/dev/null) == 2 ]] && break; sleep 0.1; done
[[ $(cat "$TMP/attempts" 2>/dev/null | tr '\n' ' ') == "1 2 " ]] || fail "exec handler attempts: $(cat "$TMP/attempts" 2>/dev/null)"
for _ in $(seq 100); do
	kmqctl get-topic-attributes --topic "$T" >"$TMP/tattr" 2>/dev/null
	python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["Attributes"]; sys.exit(int(a["kmq.Delivered"]) != int(sys.argv[2]))' "$TMP/tattr" $((2 * P + R)) && break
	sleep 0.1
done
sleep 4	# the last lease expiry (1 s) and its DLQ move; the trace's last poll

kill "$TPID"; wait "$TPID"; TPID=
bpftool -j map dump pinned "$PIN/counters" >"$TMP/counters.json" || fail "bpftool counters"
bpftool -j map dump pinned "$PIN/latency" >"$TMP/latency.json" || fail "bpftool latency"
python3 - "$TMP" "$SRC" "$Q" "$DLQ" "$T" "$TX" "$N" "$M" "$K" "$J" "$P" "$R" <<'PY' || fail "counters, histograms or trace events"
import json, sys
tmp, src, q, dlq, t, tx = sys.argv[1:7]
n, m, k, j, p, r = map(int, sys.argv[7:13])
rows = {(e["formatted"]["key"]["name"], e["formatted"]["key"]["kind"]): e["formatted"]["value"]
        for e in json.load(open(tmp + "/counters.json"))}
def expect(key, want):
    c = rows.get(key)
    assert c is not None, ("no counters for", key, sorted(rows))
    for f, v in want.items():
        assert c[f] == v, (key, f, c[f], v, c)
expect((q, 0), {"sent": n, "received": m, "deleted": k, "expired": j,
                "dead_lettered": 1, "dropped": 0, "created": 1,
                "bytes_sent": 2 * n, "bytes_received": 2 * m, "retries": 0})
delivered = 2 * p + r
expect((t, 1), {"sent": p, "received": delivered, "retries": 0})
expect((tx, 1), {"sent": 1, "received": 1, "retries": 1})
hist = {}
for e in json.load(open(tmp + "/latency.json")):
    f = e["formatted"]
    hist[(f["key"]["key"]["name"], f["key"]["key"]["kind"], f["key"]["what"])] = f["value"]
def hcount(key, want):
    h = hist.get(key)
    got = h["count"] if h else 0
    assert got == want and (not h or sum(h["slot"]) == want), (key, got, want)
hcount((q, 0, 0), n)          # first receives: 3 + 2
hcount((q, 0, 1), k)          # deletes
hcount((t, 1, 2), delivered)  # publish -> delivery
hcount((tx, 1, 2), 1)
# publish -> delivery: from kmq_publish on CLOCK_REALTIME, so well under
# a minute here (a clock mix-up would give 0 or ~56 years).
h = hist[(t, 1, 2)]
assert 0 < h["sum_ns"] / h["count"] < 60e9, h["sum_ns"]
h = hist[(tx, 1, 2)]
assert 0.01e9 < h["sum_ns"] < 60e9, h["sum_ns"]   # a failed fork+exec, a retry

ev = [json.loads(l) for l in open(tmp + "/trace.out")]
def count(name, kind):
    out = {}
    for e in ev:
        if e.get(kind) == name:
            out[e["event"]] = out.get(e["event"], 0) + 1
    return out
got = count(q, "queue")
want = {"queue-create": 1, "send": n, "lease": m, "delete": k,
        "lease-expired": j, "dead-letter": 1}
assert got == want, (got, want)
for e in ev:
    if e.get("queue") == q:
        assert e["source"] == src, e
dl = [e for e in ev if e.get("queue") == q and e["event"] == "dead-letter"]
assert dl[0]["dlq"].endswith(dlq) and dl[0]["receive_count"] == 2, dl
got = count(t, "topic")
assert got == {"publish": p, "deliver": delivered}, got
got = count(tx, "topic")
assert got == {"publish": 1, "deliver": 1, "retry": 1}, got
rt = [e for e in ev if e.get("topic") == tx and e["event"] == "retry"]
assert rt[0]["attempt"] == 2 and rt[0]["source"] == "kmqd", rt
pubs = {e["id"] for e in ev if e.get("topic") == t and e["event"] == "publish"}
dels = [e for e in ev if e.get("topic") == t and e["event"] == "deliver"]
assert all(d["id"] in pubs and d["latency_ns"] > 0 for d in dels), dels
# Created before kmqctl trace started: not in it.
assert not [e for e in ev if e.get("queue") == q + "-pre"], "stale events"
print("%s: counters, histograms and %d trace events as expected" % (src, len(ev)))
PY

kmqctl top --pin-dir "$PIN" --once --interval 100 >"$TMP/top.txt" 2>"$TMP/top.err" || fail "kmqctl top"
grep -Eq "^$T +topic .* 0 +[0-9]" "$TMP/top.txt" || fail "kmqctl top has no row for topic $T"
grep -Eq "^$TX +topic .* 1 +[0-9.]+[mun]?s " "$TMP/top.txt" || fail "kmqctl top: no retry for $TX"
cat "$TMP/top.txt"
cleanup
echo "PASS: kmqd tracing on the $BACKEND backend: SQS N=$N M=$M K=$K J=$J DLQ=1, topics P=$P R=$R, 1 retry"
