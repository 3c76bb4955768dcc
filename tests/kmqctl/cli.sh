#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
# kmqctl against a loaded kmq.ko: create a queue, send (argument, stdin,
# JSON specials, binary), receive and check the JSON, list, attributes,
# delete, and the error cases (exit status and the one-line stderr).
# Run from the repo root with build/bin on PATH (else ./build/bin is used).
# Exit 0 pass, 1 fail, 77 skip (no /dev/kmq).

Q=cli-test-$$

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	kmqctl delete-queue "$Q" >/dev/null 2>&1
	kmqctl delete-queue "cli-perm-$$" >/dev/null 2>&1
	rm -f "${OUT:-}" "${ERR:-}"
}
trap cleanup EXIT
# shellcheck source=tests/kmqctl/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

# --- create, idempotently, and not with another geometry ---
ok create-queue "$Q" --capacity 8 --max-message-size 256 --mode 0600 &&
	check "j == {'QueueUrl': 'kmq:///$Q'}"
ok create-queue "$Q" --capacity 8 --max-message-size 256 --mode 0600
bad 1 "$Q" create-queue "$Q" --capacity 16 --max-message-size 256

# --- send three: an argument, stdin, JSON specials ---
ok send-message --queue "$Q" --message-body "hello world" &&
	check "j['MD5OfMessageBody'] == hashlib.md5(b'hello world').hexdigest() and len(j['MessageId']) == 16"
id1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["MessageId"])' "$OUT" 2>/dev/null)
printf 'from stdin\n' | kmqctl send-message --queue "kmq:///$Q" --message-body - >"$OUT" 2>"$ERR" ||
	fail "send-message from stdin"
check "j['MD5OfMessageBody'] == hashlib.md5(b'from stdin\\n').hexdigest()"
special=$'quote " backslash \\ tab \t newline \n slash / unicode \u00fc\u20ac'
ok send-message --queue "$Q" --message-body "$special"

ok get-queue-attributes --queue "$Q" &&
	check "j['Attributes']['ApproximateNumberOfMessages'] == '3' and j['Attributes']['MaximumMessageSize'] == '256' and j['Attributes']['Capacity'] == '8' and j['Attributes']['Mode'] == '0600' and all(isinstance(v, str) for v in j['Attributes'].values())"
ok get-queue-attributes --queue "$Q" --attribute-names ApproximateNumberOfMessages &&
	check "j == {'Attributes': {'ApproximateNumberOfMessages': '3'}}"

ok list-queues && check "'kmq:///$Q' in j['QueueUrls']"
ok list-queues --queue-name-prefix "$Q" && check "j['QueueUrls'] == ['kmq:///$Q']"

# --- netlink (the default where kmq.ko has the family) prints what the
# ioctls print, and says why it refuses (kernel backend only) ---
if [[ -e /dev/kmq && ${KMQ_BACKEND:-} != shm ]]; then
	export KMQ_NETLINK=1
	ok list-queues || fail "list-queues over netlink"
	unset KMQ_NETLINK
	for args in "list-queues" "list-queues --queue-name-prefix $Q" \
		"list-queues --queue-name-prefix no/such" "get-queue-attributes --queue $Q" \
		"get-queue-attributes --queue-url kmq:///$Q --attribute-names Capacity,Mode"; do
		# shellcheck disable=SC2086 # split on purpose
		via_nl=$(KMQ_NETLINK=1 kmqctl $args 2>&1)
		# shellcheck disable=SC2086
		via_ioctl=$(KMQ_NETLINK=0 kmqctl $args 2>&1)
		[[ -n $via_nl && $via_nl == "$via_ioctl" ]] ||
			fail "kmqctl $args: netlink and ioctl outputs differ: '$via_nl' vs '$via_ioctl'"
	done
	export KMQ_NETLINK=1
	bad 1 "no-such-queue-$$.*No such .*\(no such queue\)" get-queue-attributes --queue "no-such-queue-$$"
	unset KMQ_NETLINK
fi

# --- receive them, in order, with their attributes; delete them ---
now_ms=$(($(date +%s) * 1000))
ok receive-message --queue "$Q" --max-number-of-messages 10 --attribute-names All &&
	SPECIAL=$special check "
[m['Body'] for m in j['Messages']] == ['hello world', 'from stdin\\n', __import__('os').environ['SPECIAL']]
and j['Messages'][0]['MessageId'] == '$id1'
and all(m['MD5OfBody'] == hashlib.md5(m['Body'].encode()).hexdigest() for m in j['Messages'])
and all(abs(int(m['Attributes']['SentTimestamp']) - $now_ms) < 600000 for m in j['Messages'])
and all(m['Attributes']['SenderId'].split(':')[0] == '$(id -u)' for m in j['Messages'])
and all('BodyEncoding' not in m for m in j['Messages'])
and len(set(m['MessageId'] for m in j['Messages'])) == 3"
entries=$(python3 -c 'import json,sys; print(json.dumps([{"Id": "e%d" % i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(json.load(open(sys.argv[1]))["Messages"])]))' "$OUT" 2>/dev/null)
ok delete-message-batch --queue "$Q" --entries "$entries" &&
	check "len(j['Successful']) == 3 and j['Failed'] == []"

# --- empty: exit 0 and print nothing, waiting or not ---
ok receive-message --queue "$Q" && { [[ -s $OUT ]] && fail "empty receive printed something"; }
start=$SECONDS
ok receive-message --queue "$Q" --wait-time-seconds 1 && { [[ -s $OUT ]] && fail "empty wait printed something"; }
((SECONDS - start >= 1)) || fail "--wait-time-seconds 1 did not wait"

# --- a body that is not UTF-8 comes back base64-encoded ---
printf '\377\376\000a' | kmqctl send-message --queue "$Q" --message-body - >"$OUT" 2>"$ERR" ||
	fail "send-message binary"
ok receive-message --queue "$Q" &&
	check "j['Messages'][0]['BodyEncoding'] == 'base64' and base64.b64decode(j['Messages'][0]['Body']) == b'\\xff\\xfe\\x00a' and j['Messages'][0]['MD5OfBody'] == hashlib.md5(b'\\xff\\xfe\\x00a').hexdigest()"
ok delete-message --queue "$Q" --receipt-handle "$(field Messages 0 ReceiptHandle)"

# --- limits: too long, full ---
bad 1 "$Q" send-message --queue "$Q" --message-body "$(printf 'x%.0s' {1..257})"
for i in 1 2 3 4 5 6 7 8; do
	ok send-message --queue "$Q" --message-body "fill $i" || break
done
bad 1 "full" send-message --queue "$Q" --message-body "one too many"
ok get-queue-attributes --queue "$Q" && check "j['Attributes']['ApproximateNumberOfMessages'] == '8'"
ok receive-message --queue "$Q" --max-number-of-messages 10 &&
	check "[m['Body'] for m in j['Messages']] == ['fill %d' % i for i in range(1, 9)]"
ok purge-queue --queue "$Q"

# --- usage errors (exit 2) and missing queues (exit 1) ---
bad 2 "unknown option '--frob'" send-message --queue "$Q" --message-body x --frob
bad 2 "needs a value" receive-message --queue "$Q" --max-number-of-messages
bad 2 "out of range" receive-message --queue "$Q" --max-number-of-messages 11
bad 2 "out of range" receive-message --queue "$Q" --wait-time-seconds 21
bad 2 "not a number" create-queue "$Q" --capacity lots
bad 2 "bad queue name" create-queue "no/slashes"
bad 2 "unknown command" frobnicate
bad 1 "no-such-queue-$$" send-message --queue "no-such-queue-$$" --message-body x
bad 1 "no-such-queue-$$" receive-message --queue "no-such-queue-$$"
bad 1 "no-such-queue-$$" get-queue-attributes --queue "no-such-queue-$$"

# --- permissions: write-only rights cannot map, so libkmq copies instead ---
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	as_nobody=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
	P=cli-perm-$$
	ok create-queue "$P" --capacity 4 --max-message-size 64 --mode 0622
	"${as_nobody[@]}" kmqctl send-message --queue "$P" --message-body "from nobody" >"$OUT" 2>"$ERR" ||
		fail "send-message as nobody to a 0622 queue"
	"${as_nobody[@]}" kmqctl receive-message --queue "$P" >"$OUT" 2>"$ERR"
	rc=$?
	{ [[ $rc == 1 ]] && grep -q '^kmqctl: receive-message: .*Permission denied' "$ERR"; } ||
		fail "receive-message as nobody from a 0622 queue: status $rc"
	"${as_nobody[@]}" kmqctl delete-queue "$P" >"$OUT" 2>"$ERR" && fail "delete-queue as nobody"
	ok receive-message --queue "$P" --attribute-names SenderId &&
		check "j['Messages'][0]['Body'] == 'from nobody' and j['Messages'][0]['Attributes']['SenderId'].split(':')[0] == '$(id -u nobody)'"
	ok delete-queue "$P"
fi

# --- delete: silent; then it is gone ---
ok delete-queue "$Q" && { [[ -s $OUT ]] && fail "delete-queue printed something"; }
bad 1 "$Q" get-queue-attributes --queue "$Q"
bad 1 "$Q" delete-queue "$Q"
ok list-queues && check "'kmq:///$Q' not in j['QueueUrls']"

finish cli.sh
