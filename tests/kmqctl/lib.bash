# SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
# Shared by the kmqctl CLI tests (sourced, not run): the skip rules, and
# ok/bad/check, which run kmqctl and judge its exit status, stderr and JSON.
# A script sets its queue names and a cleanup, sources this, and ends with
# `finish NAME`.

set -u
export LC_ALL=C.UTF-8

# The kernel backend needs /dev/kmq; the shm backend (KMQ_BACKEND=shm) kmqd.
[[ -e /dev/kmq || ${KMQ_BACKEND:-} == shm ]] || { echo "SKIP: no /dev/kmq"; exit 77; }
command -v kmqctl >/dev/null || PATH=$PWD/build/bin:$PATH
command -v kmqctl >/dev/null || { echo "FAIL: kmqctl not found"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

OUT=$(mktemp) ERR=$(mktemp)
failures=0

fail() {
	echo "FAIL: $*"
	echo "  stdout: $(head -c 600 "$OUT")"
	echo "  stderr: $(head -c 600 "$ERR")"
	failures=$((failures + 1))
}

# ok CMD...: must exit 0 with nothing on stderr.
ok() {
	kmqctl "$@" >"$OUT" 2>"$ERR"
	local rc=$?
	[[ $rc == 0 && ! -s $ERR ]] || { fail "kmqctl $* (status $rc)"; return 1; }
}

# bad STATUS PATTERN CMD...: must exit STATUS with one 'kmqctl: ' line on
# stderr matching PATTERN (grep -E) and nothing on stdout.
bad() {
	local want=$1 pat=$2
	shift 2
	kmqctl "$@" >"$OUT" 2>"$ERR" </dev/null
	local rc=$?
	if [[ $rc != "$want" ]]; then
		fail "kmqctl $*: status $rc, wanted $want"
	elif [[ -s $OUT || $(wc -l <"$ERR") != 1 ]] || ! grep -q '^kmqctl: ' "$ERR"; then
		fail "kmqctl $*: not one 'kmqctl: ' line on stderr and an empty stdout"
	elif ! grep -Eq -- "$pat" "$ERR"; then
		fail "kmqctl $*: stderr does not match '$pat'"
	fi
}

# check PYTHON: run a python assertion with the JSON of $OUT as j (and
# md5attrs(), SQS's MD5OfMessageAttributes of aws-style MessageAttributes).
check() {
	python3 - "$OUT" "$1" <<'EOF' || fail "check: $1"
import base64, hashlib, json, struct, sys
def md5attrs(attrs):
    b = b''
    for name in sorted(attrs):
        a = attrs[name]
        t = a['DataType']
        binary = t.startswith('Binary')
        v = base64.b64decode(a['BinaryValue']) if binary else a['StringValue'].encode()
        b += struct.pack('>I', len(name)) + name.encode()
        b += struct.pack('>I', len(t)) + t.encode()
        b += b'\x02' if binary else b'\x01'
        b += struct.pack('>I', len(v)) + v
    return hashlib.md5(b).hexdigest()
j = json.load(open(sys.argv[1]))
ok = eval("(" + sys.argv[2] + ")")
if not ok:
    print("  json:", json.dumps(j)[:600])
    sys.exit(1)
EOF
}

# field KEY...: print j[KEY][KEY]... of $OUT (e.g. field Messages 0 ReceiptHandle).
field() {
	python3 - "$OUT" "$@" <<'EOF' 2>/dev/null
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)
EOF
}

finish() {
	if ((failures)); then
		echo "$1: $failures failure(s)"
		exit 1
	fi
	echo "$1: pass"
	exit 0
}
