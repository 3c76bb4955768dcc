#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kmqd beside kmq.ko (the kernel backend), in the VM: it starts, serves no
# queues itself (a queue command on its socket is refused, clearly), while
# libkmq on /dev/kmq works as ever; it subscribes to the module's netlink
# events and logs them; SIGTERM stops it with status 0.
# Exit 0 pass, 1 fail, 77 skip (no /dev/kmq).
set -u
[[ -e /dev/kmq ]] || { echo "SKIP: no /dev/kmq"; exit 77; }
command -v kmqd >/dev/null || PATH=$PWD/build/bin:$PATH
dir=$(mktemp -d)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; cat "$dir/log"; exit 1; }

kmqd --no-trace -s "$dir/kmqd.sock" -d "$dir/state" 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do [[ -S $dir/kmqd.sock ]] && break; sleep 0.1; done
[[ -S $dir/kmqd.sock ]] || fail "kmqd did not start"
grep -q "backend kernel" "$dir/log" || fail "kmqd did not choose the kernel backend"
[[ -e $dir/state/queues ]] && fail "kmqd made a queue store beside kmq.ko"

# Through kmqd's socket: refused with EOPNOTSUPP, and kmqd says why.
out=$(KMQ_BACKEND=shm KMQ_SOCKET=$dir/kmqd.sock kmqctl create-queue km-$$ 2>&1) &&
	fail "kmqd created a queue: $out"
[[ $out == *"not supported"* ]] || fail "unexpected error: $out"
# Through /dev/kmq (KMQ_BACKEND unset): the kernel serves it.
kmqctl create-queue km-$$ --capacity 8 --max-message-size 64 >/dev/null || fail "create on /dev/kmq"
kmqctl delete-queue km-$$ >/dev/null || fail "delete on /dev/kmq"

# kmqd heard both through the netlink family's events group.
grep -q "netlink family 'kmq': subscribed" "$dir/log" || fail "kmqd did not subscribe to the netlink events"
for _ in $(seq 50); do
	grep -q "event queue-deleted km-$$" "$dir/log" && break
	sleep 0.1
done
grep -q "event queue-created km-$$: uid=" "$dir/log" || fail "no queue-created event logged"
grep -q "event queue-deleted km-$$" "$dir/log" || fail "no queue-deleted event logged"

kill -TERM $pid
wait $pid || fail "kmqd exited with status $?"
[[ -e $dir/kmqd.sock ]] && fail "socket left behind"
echo "kernel_mode.sh: pass"
