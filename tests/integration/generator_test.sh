#!/usr/bin/env bash
# generator_test.sh - qpurge-gen's files are read by Postfix exactly as the
# files its cleanup daemon writes (issue 6: the benchmark's synthetic queues
# must be what a real queue is).
#
# A private instance (scripts/pfsandbox, under /tmp) first queues one real
# message with sendmail and waits until it is deferred; it is stopped,
# qpurge-gen writes 300 messages (two of them large, with defer logs) into
# its spool's deferred queue, and it is started again. Then Postfix itself
# must read every generated file as the generator meant it:
#   - the start leaves every generated name alone (its postsuper structure
#     check renames files whose ID does not match their inode);
#   - postqueue -j lists every generated message in deferred under its name,
#     with the sender, recipients, arrival_time and message_size of the
#     generator's manifest, and the delay reason of its defer log;
#   - postcat -e prints the same envelope records, in the same order, for a
#     generated file as for the real file of the same shape (one recipient,
#     a sender, sendmail as root); values that rightly differ (addresses,
#     times, queue IDs, offsets) are not compared;
#   - postcat reads a sample of generated files, content included, without
#     a warning.
#
# Usage: generator_test.sh [QPURGE_GEN]   (default: $QPURGE_GEN, then
#        build/qpurge-gen in the repository)
# Needs root, Postfix (Debian's postfix package) and jq.
# Exit: 0 pass, 1 fail (each failed check is printed as "FAIL: ..."),
# 77 skipped (not root, or no Postfix or jq).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pfsandbox=$repo/scripts/pfsandbox
gen=${1:-${QPURGE_GEN:-$repo/build/qpurge-gen}}

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (a private Postfix instance)"
for tool in postfix postqueue postcat sendmail jq; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || skip "no $tool"
done
export PATH=$PATH:/usr/sbin
[[ -x $gen ]] || { echo "FAIL: no generator at $gen"; exit 1; }

failed=0
check() {  # check CONDITION-STATUS DESCRIPTION
  if [[ $1 -eq 0 ]]; then echo "ok: $2"; else echo "FAIL: $2"; failed=1; fi
}

root=$(mktemp -d /tmp/qpurge-gentest.XXXXXX)
conf=$root/conf
cleanup() {
  "$pfsandbox" stop "$root" >/dev/null 2>&1
  rm -rf "$root"
}
trap cleanup EXIT

"$pfsandbox" start "$root" >/dev/null || { echo "FAIL: pfsandbox start"; exit 1; }

# One real message, of the shape compared below.
printf 'From: Example News <news@example.com>\nSubject: real\n\nbody\n' |
  sendmail -C "$conf" -f sender1@domain1.net user1@example.com
real_id=
for _ in $(seq 150); do
  real_id=$(postqueue -c "$conf" -j | jq -r 'select(.queue_name == "deferred") | .queue_id' | head -1)
  [[ -n $real_id ]] && break
  sleep 0.2
done
[[ -n $real_id ]] || { echo "FAIL: the real message did not reach the deferred queue"; exit 1; }

"$pfsandbox" stop "$root"
manifest=$root/manifest.jsonl
"$gen" --spool "$root/spool" --count 300 --seed 3 --select-fraction 0.3 --large-every 150 \
  --large-size 2000000 --defer-logs --manifest "$manifest" || { echo "FAIL: qpurge-gen"; exit 1; }
"$pfsandbox" start "$root" >/dev/null || { echo "FAIL: pfsandbox start after generating"; exit 1; }
sleep 1

! grep -q "Renamed to match inode number" "$root/maillog"
check $? "postfix start renamed no file (every ID's inode part is the file's inode)"

postqueue -c "$conf" -j >"$root/postqueue.jsonl"
n_gen=$(wc -l <"$manifest")
n_seen=$(jq -s --slurpfile want "$manifest" \
  '[$want[].queue_id] - [.[] | select(.queue_name == "deferred") | .queue_id] | length' "$root/postqueue.jsonl")
check $((n_seen != 0)) "postqueue -j lists all $n_gen generated messages in deferred under their names ($n_seen missing)"

# Each generated message as postqueue -j shows it, against the manifest.
bad=$(jq -r -s --slurpfile want "$manifest" '
  (map({key: .queue_id, value: .}) | from_entries) as $got
  | $want[]
  | . as $w
  | $got[$w.queue_id] as $g
  | select($g != null)
  | select($g.sender != $w.sender
      or $g.arrival_time != $w.arrival_time
      or $g.message_size != $w.message_size
      or ([$g.recipients[].address] | sort) != ([$w.recipients[].address] | sort)
      or ([$g.recipients[].delay_reason] | unique
          != ["delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:9: Connection refused"]))
  | "\($w.queue_id): got \($g | {sender, arrival_time, message_size, recipients}) want \($w | {sender, arrival_time, message_size, recipients})"
' "$root/postqueue.jsonl")
[[ -z $bad ]]
check $? "postqueue -j reads sender, recipients, arrival_time, message_size and delay reason as generated"
[[ -z $bad ]] || head -5 <<<"$bad"

n_large=$(jq -s '[.[] | select(.message_size > 1000000)] | length' "$manifest")
check $((n_large != 2)) "two large messages, each read by postqueue -j (found $n_large in the manifest)"

# The envelope records postcat prints, by label, in order.
labels() {
  postcat -c "$conf" -e -q "$1" 2>&1 | sed -n 's/^\([a-z_]*\): .*/\1/p; s/^\*\*\* \([A-Z ]*\) .*/*** \1/p'
}
gen_id=$(jq -r 'select((.recipients | length) == 1 and .sender != "MAILER-DAEMON") | .queue_id' "$manifest" | head -1)
labels "$real_id" >"$root/real.labels"
labels "$gen_id" >"$root/gen.labels"
echo "real $real_id: $(tr '\n' ' ' <"$root/real.labels")"
echo "generated $gen_id: $(tr '\n' ' ' <"$root/gen.labels")"
cmp -s "$root/real.labels" "$root/gen.labels" && [[ $(wc -l <"$root/real.labels") -gt 6 ]]
check $? "postcat -e prints the same envelope records in the same order for a generated and a real file"

# With the named attributes too (postcat -v prints their names).
attrs() { postcat -c "$conf" -e -q "$1" 2>/dev/null | sed -n 's/^named_attribute: \([a-z_]*\)=.*/\1/p'; }
[[ "$(attrs "$real_id")" == "$(attrs "$gen_id")" ]]
check $? "the same named attributes in the same order ($(attrs "$gen_id" | tr '\n' ' '))"

warned=0
for id in $(jq -r .queue_id "$manifest" | head -40); do
  out=$(postcat -c "$conf" -q "$id" 2>&1 >/dev/null) || warned=1
  [[ -z $out ]] || { warned=1; echo "postcat -q $id: $out"; }
done
check $warned "postcat reads 40 generated files, content included, without a warning"

exit $failed
