# The known SQS workload of the tracing tests (sourced by tests/vm/trace.sh
# and tests/trace/kmqd_flow.sh, not run): kmqctl against whichever backend
# serves the queues. The caller defines k (run kmqctl, fail on error, its
# output in $TMP/out) and fail.

# handles: the receipt handles of the receive-message reply in $TMP/out.
handles() {
	python3 -c 'import json,sys; [print(m["ReceiptHandle"]) for m in json.load(open(sys.argv[1])).get("Messages", [])]' "$TMP/out"
}

# take COUNT [receive-message options]: receive COUNT messages, or fail;
# their receipt handles in the array hs.
take() {
	local want=$1
	shift
	k receive-message --queue "$Q" --max-number-of-messages "$want" "$@"
	mapfile -t hs < <(handles)
	((${#hs[@]} == want)) || fail "received ${#hs[@]} of $want"
}

# sqs_workload Q DLQ [send-message options]: create DLQ and Q (visibility
# 30 s, maxReceiveCount 2 into DLQ), then N=5 sends of 2-byte bodies, M=6
# leased receives, K=3 deletes, J=3 lease expirations and one DLQ move (the
# last expiry, moments after this returns: wait ~2 s). Sets N M K J.
sqs_workload() {
	local dlq=$2 i
	Q=$1
	shift 2
	k create-queue "$dlq" --capacity 16
	k create-queue "$Q" --capacity 16 --attributes "{\"VisibilityTimeout\": \"30\", \"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"$dlq\\\", \\\"maxReceiveCount\\\": 2}\"}"
	N=5
	for i in $(seq $N); do k send-message --queue "$Q" --message-body "m$i" "$@"; done
	# Delayed sends (--delay-seconds) become visible meanwhile.
	[[ " $* " == *" --delay-seconds "* ]] && sleep 2
	# Three received and deleted.
	take 3
	for h in "${hs[@]}"; do k delete-message --queue "$Q" --receipt-handle "$h"; done
	# Two leased for 1 s: they expire (receive count 1, back in the queue).
	take 2 --visibility-timeout 1
	sleep 3
	# One of them again for 1 s: its second expiry moves it to the DLQ.
	take 1 --visibility-timeout 1
	M=6 K=3 J=3
}
