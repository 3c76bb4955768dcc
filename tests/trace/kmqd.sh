#!/bin/bash
# kmqd's tracing on the host (shm backend, no kmq.ko): kmqd loads the BPF
# programs by default and pins them under [trace] pin_dir; its own USDT
# probes count a queue's creation and deletion; two tracers do not switch
# each other off and a killed one stops the records; --no-trace loads
# nothing; SIGTERM unpins. Needs root (BPF); exits 77 (skip) without it.
set -u
B=${B:-build}
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }
[[ -r /sys/kernel/btf/vmlinux ]] || { echo "SKIP: no BTF"; exit 77; }
TMP=$(mktemp -d)
chmod 755 "$TMP"
PIN=/sys/fs/bpf/kmq-kmqd-test-$$
Q=trace-kmqd-$$
export KMQ_BACKEND=shm KMQ_SOCKET=$TMP/kmqd.sock
fail() { echo "FAIL: $*"; head -c 2000 "$TMP/kmqd.log"; cleanup; exit 1; }
cleanup() {
	[[ -n ${KPID:-} ]] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
	rm -rf "$TMP"
}
start() {	# start [kmqd options]
	"$B/bin/kmqd" -c "$TMP/kmqd.conf" -s "$KMQ_SOCKET" -d "$TMP/state" -b shm "$@" 2>>"$TMP/kmqd.log" &
	KPID=$!
	for _ in $(seq 100); do [[ -S $KMQ_SOCKET ]] && "$B/bin/kmqctl" list-queues >/dev/null 2>&1 && return 0; sleep 0.1; done
	fail "kmqd did not start"
}
stop() { kill "$KPID"; wait "$KPID"; KPID=; rm -f "$KMQ_SOCKET"; }
printf '[trace]\npin_dir = %s\n' "$PIN" >"$TMP/kmqd.conf"

start --no-trace
[[ -e $PIN ]] && fail "--no-trace pinned maps"
stop

start
for m in counters latency control events; do [[ -e $PIN/$m ]] || fail "no pin $PIN/$m"; done
# By default only kmqd's rare probes (queue create/delete, repair, tick): its
# per-message ones are uprobes, a trap per message ([trace] messages).
grep -q "kmqd: 4 USDT probes attached" "$TMP/kmqd.log" || fail "kmqd's default probes: not the 4 rare ones"
"$B/bin/kmqctl" create-queue "$Q" --capacity 16 >/dev/null || fail "create-queue"
"$B/bin/kmqctl" delete-queue "$Q" >/dev/null || fail "delete-queue"
bpftool -j map dump pinned "$PIN/counters" >"$TMP/c.json" || fail "bpftool"
python3 - "$Q" "$TMP/c.json" <<'PY' || fail "counters"
import json, sys
rows = {e["formatted"]["key"]["name"]: e["formatted"]["value"] for e in json.load(open(sys.argv[2]))}
c = rows[sys.argv[1]]
assert c["created"] == 1 and c["deleted_queue"] == 1, c
PY

# Records are written while someone holds "events" open. Two tracers: the
# first one leaving (cleanly) does not stop the second; the second killed
# with SIGKILL stops the records (a later --backlog reader finds none of
# what happened meanwhile, only what happens while it runs).
tracer() {	# tracer NAME [kmqctl trace options]: in the background, TP_NAME
	local n=$1
	shift
	"$B/bin/kmqctl" trace --pin-dir "$PIN" --json --duration 60 "$@" >"$TMP/$n.out" 2>"$TMP/$n.err" &
	eval "TP_$n=$!"
	for _ in $(seq 100); do grep -q tracing "$TMP/$n.err" 2>/dev/null && return 0; sleep 0.1; done
	fail "kmqctl trace $n did not start"
}
saw() { grep -q "\"event\":\"queue-create\".*\"queue\":\"$2\"" "$TMP/$1.out"; }
tracer a
tracer b
kill "$TP_a"; wait "$TP_a"
"$B/bin/kmqctl" create-queue "$Q-1" --capacity 4 >/dev/null || fail "create-queue"
for _ in $(seq 50); do saw b "$Q-1" && break; sleep 0.1; done
saw b "$Q-1" || fail "tracer b saw nothing after tracer a left"
kill -9 "$TP_b"; wait "$TP_b" 2>/dev/null
"$B/bin/kmqctl" create-queue "$Q-2" --capacity 4 >/dev/null || fail "create-queue"
tracer c --backlog
"$B/bin/kmqctl" create-queue "$Q-3" --capacity 4 >/dev/null || fail "create-queue"
for _ in $(seq 50); do saw c "$Q-3" && break; sleep 0.1; done
kill "$TP_c"; wait "$TP_c"
saw c "$Q-3" || fail "tracer c saw nothing"
saw c "$Q-2" && fail "records were written after the last tracer was killed"
for i in 1 2 3; do "$B/bin/kmqctl" delete-queue "$Q-$i" >/dev/null; done

# kmqd's per-message probes, on demand: attached within a second or two of
# a tracer appearing (kmqd:tick), so a topic's publishes and deliveries are
# traced; detached again when the last tracer has gone.
T=trace-kmqd-t-$$
"$B/bin/kmqctl" create-topic "$T" >/dev/null || fail "create-topic"
"$B/bin/kmqctl" create-queue "$Q-s" --capacity 16 >/dev/null || fail "create-queue"
"$B/bin/kmqctl" subscribe --topic "$T" --protocol queue --endpoint "$Q-s" >/dev/null || fail "subscribe"
"$B/bin/kmqctl" publish --topic "$T" --message early >/dev/null || fail "publish"
tracer d --topic "$T"
for _ in $(seq 50); do grep -q "per-message probes of kmqd attached" "$TMP/kmqd.log" && break; sleep 0.1; done
grep -q "per-message probes of kmqd attached" "$TMP/kmqd.log" || fail "kmqd did not attach its per-message probes for a tracer"
for i in 1 2 3; do "$B/bin/kmqctl" publish --topic "$T" --message "m$i" >/dev/null || fail "publish"; done
for _ in $(seq 50); do (($(grep -c '"event":"deliver"' "$TMP/d.out") >= 3)) && break; sleep 0.1; done
kill "$TP_d"; wait "$TP_d"
(($(grep -c '"event":"publish"' "$TMP/d.out") == 3)) || fail "tracer d: not 3 publishes: $(head -c 600 "$TMP/d.out")"
(($(grep -c '"event":"deliver"' "$TMP/d.out") == 3)) || fail "tracer d: not 3 deliveries"
for _ in $(seq 50); do grep -q "per-message probes detached" "$TMP/kmqd.log" && break; sleep 0.1; done
grep -q "per-message probes detached" "$TMP/kmqd.log" || fail "kmqd kept its per-message probes with nobody tracing"
"$B/bin/kmqctl" delete-topic "$T" >/dev/null
"$B/bin/kmqctl" delete-queue "$Q-s" >/dev/null

stop
[[ -e $PIN ]] && fail "pins left after SIGTERM"
cleanup
echo "PASS: kmqd tracing (shm backend, kmqd's USDT probes)"
