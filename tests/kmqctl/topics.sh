#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
# kmqctl's topic verbs against kmqd, with good and bad arguments: publish
# prints the MessageId subscribers see (the envelope's), publish-batch
# prints Successful/Failed as aws sns does and fails a refused entry alone,
# the subscription verbs (get-/set-subscription-attributes, unsubscribe,
# list-subscriptions) share one parser and its errors. Uses the kmqd at
# $KMQ_SOCKET when one answers, else starts its own (the VM: kmq.ko).
# Exit 0 pass, 1 fail, 77 skip.

T=cli-topic-$$ Q=cli-tq-$$ E=cli-te-$$
own_kmqd= own_dir=

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	kmqctl delete-topic "$T" >/dev/null 2>&1
	for q in "$Q" "$E"; do
		kmqctl delete-queue "$q" >/dev/null 2>&1
	done
	[[ -n $own_kmqd ]] && kill "$own_kmqd" 2>/dev/null
	[[ -n $own_dir ]] && rm -rf "$own_dir"
	rm -f "${OUT:-}" "${ERR:-}"
}
trap cleanup EXIT
# shellcheck source=tests/kmqctl/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

if ! kmqctl list-topics >/dev/null 2>&1; then
	command -v kmqd >/dev/null || PATH=$PWD/build/bin:$PATH
	own_dir=$(mktemp -d /tmp/kmqd-cli-topics.XXXXXX)
	chmod 755 "$own_dir"
	export KMQ_SOCKET=$own_dir/kmqd.sock
	kmqd --no-trace -s "$KMQ_SOCKET" -d "$own_dir/state" 2>"$own_dir/kmqd.log" &
	own_kmqd=$!
	disown "$own_kmqd"	# no job report when the cleanup stops it
	for _ in $(seq 300); do
		kmqctl list-topics >/dev/null 2>&1 && break
		sleep 0.1
	done
	kmqctl list-topics >/dev/null 2>&1 || { echo "FAIL: kmqd did not come up"; exit 1; }
fi

ok create-topic "$T" --max-message-size 1024 && check "j['TopicArn'].endswith(':$T')"
ok create-queue "$Q" --capacity 16
ok create-queue "$E" --capacity 16
ok subscribe --topic "$T" --protocol queue --endpoint "$Q" --attributes RawMessageDelivery=true
SUB=$(field SubscriptionArn)
ok subscribe --topic "$T" --protocol queue --endpoint "$E"

# --- publish: the MessageId is the one in the envelope ---
ok publish --topic "$T" --message "hello" --subject greet && check "len(j['MessageId']) == 36 and j['MessageId'][14] == '4'"
mid=$(field MessageId)
ok receive-message --queue "$E" --wait-time-seconds 5 &&
	MID=$mid check "json.loads(j['Messages'][0]['Body'])['MessageId'] == __import__('os').environ['MID']
and json.loads(j['Messages'][0]['Body'])['Subject'] == 'greet'"
ok receive-message --queue "$Q" --wait-time-seconds 5 && check "j['Messages'][0]['Body'] == 'hello'"

# --- publish-batch ---
big=$(printf 'x%.0s' $(seq 1100))
ok publish-batch --topic "$T" --entries "[{\"Id\": \"a\", \"Message\": \"one\"},
	{\"Id\": \"b\", \"Message\": \"$big\"},
	{\"Id\": \"c\", \"Message\": \"three\", \"Subject\": \"s\",
	 \"MessageAttributes\": {\"color\": {\"DataType\": \"String\", \"StringValue\": \"red\"}}}]" &&
	check "[e['Id'] for e in j['Successful']] == ['a', 'c'] and all(len(e['MessageId']) == 36 for e in j['Successful'])
and len(j['Failed']) == 1 and j['Failed'][0]['Id'] == 'b' and j['Failed'][0]['Code'] == 'InvalidParameterValue'
and j['Failed'][0]['SenderFault'] is True"
ok receive-message --queue "$Q" --max-number-of-messages 10 --wait-time-seconds 5 --message-attribute-names All &&
	check "sorted(m['Body'] for m in j['Messages']) in (['one', 'three'], ['one'], ['three'])"
elevel='[{"Id":"1","Message":"m"},{"Id":"2","Message":"m"},{"Id":"3","Message":"m"},{"Id":"4","Message":"m"},{"Id":"5","Message":"m"},{"Id":"6","Message":"m"},{"Id":"7","Message":"m"},{"Id":"8","Message":"m"},{"Id":"9","Message":"m"},{"Id":"10","Message":"m"},{"Id":"11","Message":"m"}]'
bad 2 "TooManyEntriesInBatchRequest" publish-batch --topic "$T" --entries "$elevel"
bad 2 "TooManyEntriesInBatchRequest" publish-batch --topic "$T" --entries '[]'
bad 2 "BatchEntryIdsNotDistinct" publish-batch --topic "$T" --entries '[{"Id":"a","Message":"m"},{"Id":"a","Message":"n"}]'
bad 2 "unknown key 'MessageBody'" publish-batch --topic "$T" --entries '[{"Id":"a","MessageBody":"m"}]'
bad 2 "has no Message" publish-batch --topic "$T" --entries '[{"Id":"a"}]'
bad 2 "needs an Id" publish-batch --topic "$T" --entries '[{"Message":"m"}]'
bad 2 "Subject must be 1-100" publish-batch --topic "$T" --entries '[{"Id":"a","Message":"m","Subject":""}]'
bad 2 "not a JSON array" publish-batch --topic "$T" --entries 'Id=a,Message=m'
bad 2 "missing --entries" publish-batch --topic "$T"
bad 2 "missing --topic" publish-batch --entries '[{"Id":"a","Message":"m"}]'
bad 2 "unexpected argument" publish-batch --topic "$T" --entries '[{"Id":"a","Message":"m"}]' extra
bad 1 "no-such-topic" publish-batch --topic no-such-topic-$$ --entries '[{"Id":"a","Message":"m"}]'

# --- publish, subscribe, create-topic: their arguments ---
bad 2 "missing --message" publish --topic "$T"
bad 2 "missing --topic" publish --message m
bad 2 "unexpected argument" publish --topic "$T" --message m extra
bad 2 "needs a value" publish --topic "$T" --message
bad 1 "Invalid argument" publish --topic "$T" --message m --subject ''
bad 2 "missing --endpoint" subscribe --topic "$T" --protocol queue
bad 2 "unexpected argument" subscribe --topic "$T" --protocol queue --endpoint "$Q" extra
bad 2 "is not a JSON object|Key=Value" subscribe --topic "$T" --protocol queue --endpoint "$Q" --attributes '{"x"'
bad 1 "http_allow" subscribe --topic "$T" --protocol http --endpoint http://example.com/hook
bad 1 "credentials" subscribe --topic "$T" --protocol http --endpoint http://127.0.0.1@example.com/hook
bad 2 "--capacity '0' is not in" create-topic "cli-topic2-$$" --capacity 0
bad 2 "missing --name" create-topic
ok subscribe --topic "$T" --protocol queue --endpoint "$Q" --return-subscription-arn &&
	check "j['SubscriptionArn'].startswith('arn:kmq:sns:local:$T:')"
ok unsubscribe "$(field SubscriptionArn)"

# --- the subscription verbs ---
ok get-subscription-attributes --subscription-arn "$SUB" &&
	check "j['Attributes']['RawMessageDelivery'] == 'true' and int(j['Attributes']['kmq.Delivered']) >= 2
and j['Attributes']['kmq.DeadLettered'] == '0' and j['Attributes']['kmq.Pending'] == '0'"
ok get-subscription-attributes "$SUB"	# positionally too
ok set-subscription-attributes --subscription-arn "$SUB" --attribute-name RedrivePolicy \
	--attribute-value "{\"deadLetterTargetArn\": \"kmq:///$E\"}"
ok get-subscription-attributes --subscription-arn "$SUB" &&
	check "json.loads(j['Attributes']['RedrivePolicy'])['deadLetterTargetArn'] == 'kmq:///$E'"
bad 1 "RedrivePolicy" set-subscription-attributes --subscription-arn "$SUB" --attribute-name RedrivePolicy --attribute-value '{"x": 1}'
bad 1 "numRetries" set-subscription-attributes --subscription-arn "$SUB" --attribute-name DeliveryPolicy \
	--attribute-value '{"healthyRetryPolicy": {"numRetries": 101}}'
bad 2 "missing --attribute-name" set-subscription-attributes --subscription-arn "$SUB"
bad 2 "missing --subscription-arn" set-subscription-attributes --attribute-name RawMessageDelivery
bad 2 "missing --subscription-arn" get-subscription-attributes
bad 2 "missing --subscription-arn" unsubscribe
bad 2 "unexpected argument" unsubscribe --subscription-arn "$SUB" more
bad 2 "unknown option '--topic'" unsubscribe --topic "$T"
bad 2 "needs a value" get-subscription-attributes --subscription-arn
bad 1 "Subscription does not exist" get-subscription-attributes --subscription-arn "arn:nope"
bad 1 "Topic does not exist" get-topic-attributes --topic "no-such-topic-$$"
bad 2 "missing --topic" get-topic-attributes
bad 2 "unexpected argument" list-subscriptions x
ok list-subscriptions --topic "$T" && check "len(j['Subscriptions']) == 2"
ok unsubscribe "$SUB" && { [[ -s $OUT ]] && fail "unsubscribe printed something"; }
ok list-subscriptions --topic-arn "arn:kmq:sns:local:$T" && check "len(j['Subscriptions']) == 1"
bad 1 "Subscription does not exist" unsubscribe --subscription-arn "$SUB"
ok delete-topic --topic "$T"
bad 1 "" get-topic-attributes --topic "$T"

finish topics.sh
