#!/bin/bash
# kmqctl top and trace as an unprivileged user: kmqd pins its maps mode
# 0640 ("events" 0660) for [trace] pin_group; a user outside that group is
# refused with a clear error, a member reads the counters and traces. Since
# 5.19, kernel.unprivileged_bpf_disabled (Debian: 2) only guards map
# creation and program loading, so it does not matter here (checked on 6.1
# in the VM and 6.18 on the host); before, it refused every bpf() call to
# users, and there even a member must be refused with an error naming the
# sysctl. In the VM (KMQ_VM=1, sysctl 2) the script runs again with it set
# to 0, and restores it. Needs root and setpriv; exits 77 (skip) without.
set -u
export LC_ALL=C.UTF-8
B=${B:-build}
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }
[[ -r /sys/kernel/btf/vmlinux ]] || { echo "SKIP: no BTF"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: no setpriv"; exit 77; }
GROUP=nogroup
GID=$(getent group "$GROUP" | cut -d: -f3)
[[ -n $GID ]] || { echo "SKIP: no group $GROUP"; exit 77; }
TMP=$(mktemp -d)
chmod 755 "$TMP"
PIN=/sys/fs/bpf/kmq-nonroot-$$
Q=tn-q-$$
CTL=$PWD/$B/bin/kmqctl
export KMQ_BACKEND=shm KMQ_SOCKET=$TMP/kmqd.sock
SYSCTL=/proc/sys/kernel/unprivileged_bpf_disabled
ORIG=$(cat $SYSCTL 2>/dev/null || echo 0)
fail() { echo "FAIL: $*"; for f in "$TMP"/*.err; do [[ -s $f ]] && { echo "--- $f"; cat "$f"; }; done; cleanup; exit 1; }
cleanup() {
	[[ $(cat $SYSCTL 2>/dev/null) != "$ORIG" ]] && echo "$ORIG" >$SYSCTL
	[[ -n ${KPID:-} ]] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
	rm -rf "$TMP"
}
# as WHO CMD...: run as nobody, in group $GID (member) or not (outsider).
as() {
	local who=$1
	shift
	if [[ $who == member ]]; then
		setpriv --reuid=65534 --regid=4242 --groups="$GID" "$@"
	else
		setpriv --reuid=65534 --regid=4242 --clear-groups "$@"
	fi
}
# Does this kernel let an unprivileged user call bpf() for a pinned map at
# all? Before 5.19 unprivileged_bpf_disabled refused every command.
bpf_open_to_users() {
	local v
	v=$(cat $SYSCTL)
	[[ $v == 0 ]] && return 0
	v=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
	((v >= 5019))
}

printf '[trace]\npin_dir = %s\npin_group = %s\n' "$PIN" "$GROUP" >"$TMP/kmqd.conf"
"$B/bin/kmqd" -c "$TMP/kmqd.conf" -s "$KMQ_SOCKET" -d "$TMP/state" -b shm 2>"$TMP/kmqd.err" &
KPID=$!
for _ in $(seq 300); do [[ -e $PIN/events ]] && "$CTL" list-queues >/dev/null 2>&1 && break; sleep 0.1; done
[[ -e $PIN/events ]] || fail "kmqd did not pin under $PIN"
[[ $(stat -c '%a %G' "$PIN/counters") == "640 $GROUP" ]] || fail "counters: $(stat -c '%a %G' "$PIN/counters"), want 640 $GROUP"
[[ $(stat -c '%a %G' "$PIN/events") == "660 $GROUP" ]] || fail "events: $(stat -c '%a %G' "$PIN/events"), want 660 $GROUP"
"$CTL" create-queue "$Q" --capacity 4 >/dev/null || fail "create-queue"

# phase: the outsider is refused, the member reads and traces (or both are
# refused, naming the sysctl, where bpf() is closed to users).
phase() {
	local v
	v=$(cat $SYSCTL)
	as outsider "$CTL" top --once --interval 100 --pin-dir "$PIN" >"$TMP/o.out" 2>"$TMP/o.err" && fail "an outsider read the pins (sysctl $v)"
	as outsider "$CTL" trace --duration 1 --pin-dir "$PIN" >"$TMP/ot.out" 2>"$TMP/ot.err" && fail "an outsider traced (sysctl $v)"
	if bpf_open_to_users; then
		grep -q "counters: mode 0640, uid 0, gid $GID: read permission needed (kmqd's \[trace\] pin_group" "$TMP/o.err" ||
			fail "outsider's top error is not about the pin's permissions: $(cat "$TMP/o.err")"
		grep -q "events: mode 0660, uid 0, gid $GID: read and write permission needed" "$TMP/ot.err" ||
			fail "outsider's trace error is not about the pin's permissions: $(cat "$TMP/ot.err")"
		as member "$CTL" top --once --interval 100 --json --pin-dir "$PIN" >"$TMP/m.out" 2>"$TMP/m.err" ||
			fail "a member of $GROUP could not read the pins (sysctl $v)"
		python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); assert [r for r in t["queues"] if r["name"] == sys.argv[2] and r["created"] == 1], t' \
			"$TMP/m.out" "$Q" || fail "member's kmqctl top: no row for $Q"
		# The member traces: it sees a queue being created meanwhile.
		as member "$CTL" trace --count 1 --duration 30 --json --pin-dir "$PIN" >"$TMP/mt.out" 2>"$TMP/mt.err" &
		local tpid=$!
		for _ in $(seq 100); do grep -q tracing "$TMP/mt.err" 2>/dev/null && break; sleep 0.1; done
		"$CTL" create-queue "$Q-$v" --capacity 4 >/dev/null || fail "create-queue"
		wait $tpid || fail "member's kmqctl trace failed"
		grep -q "\"event\":\"queue-create\".*\"queue\":\"$Q-$v\"" "$TMP/mt.out" || fail "member's trace: $(cat "$TMP/mt.out")"
		"$CTL" delete-queue "$Q-$v" >/dev/null
		echo "sysctl $v: outsider refused (pin permissions), member reads and traces"
	else
		for f in o ot; do
			grep -q "this kernel refuses the bpf() system call to unprivileged users (kernel.unprivileged_bpf_disabled=$v)" "$TMP/$f.err" ||
				fail "outsider's error does not name the sysctl: $(cat "$TMP/$f.err")"
		done
		as member "$CTL" top --once --interval 100 --pin-dir "$PIN" >"$TMP/m.out" 2>"$TMP/m.err" && fail "a member read the pins with sysctl $v on $(uname -r)"
		grep -q "kernel.unprivileged_bpf_disabled=$v" "$TMP/m.err" || fail "member's error does not name the sysctl: $(cat "$TMP/m.err")"
		echo "sysctl $v on $(uname -r): every unprivileged reader refused, the error names the sysctl"
	fi
}
phase
# In the VM, root may set it 2 -> 0 (1 is for good): the same outcome.
if [[ ${KMQ_VM:-} == 1 && $ORIG == 2 ]]; then
	echo 0 >$SYSCTL || fail "cannot set the sysctl to 0"
	phase
	echo "$ORIG" >$SYSCTL
fi
"$CTL" delete-queue "$Q" >/dev/null
cleanup
echo "PASS: unprivileged kmqctl top/trace"
