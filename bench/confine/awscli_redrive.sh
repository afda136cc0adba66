#!/usr/bin/env bash
# A DLQ redrive as an operator would write it with the AWS CLI and jq: receive 10 (all
# attributes), send them as one batch to the source queue, delete the ones it accepted;
# until N were moved or a receive comes back empty. The bench runs it against the
# simulator with `aws` first on PATH; AWS CLI v1 does not read AWS_ENDPOINT_URL, so the
# loop passes --endpoint-url, as an operator on a local endpoint would.
#   awscli_redrive.sh DLQ_URL SOURCE_URL N
set -euo pipefail
dlq=$1 source=$2 wanted=$3 moved=0
aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
while (( moved < wanted )); do
  received=$(aws sqs receive-message --queue-url "$dlq" --max-number-of-messages 10 \
    --visibility-timeout 900 --wait-time-seconds 1 \
    --attribute-names All --message-attribute-names All)
  [[ -n $received ]] || break  # no messages: the CLI prints nothing
  entries=$(jq -c '[.Messages | to_entries[] | {Id: "m\(.key)", MessageBody: .value.Body}
    + (if .value.MessageAttributes then {MessageAttributes: .value.MessageAttributes} else {} end)]' \
    <<<"$received")
  sent=$(aws sqs send-message-batch --queue-url "$source" --entries "$entries")
  accepted=$(jq -c --argjson got "$received" \
    '[.Successful[]?.Id | ltrimstr("m") | tonumber | {Id: "m\(.)", ReceiptHandle: $got.Messages[.].ReceiptHandle}]' \
    <<<"$sent")
  if [[ $accepted != "[]" ]]; then
    aws sqs delete-message-batch --queue-url "$dlq" --entries "$accepted" >/dev/null
  fi
  moved=$(( moved + $(jq length <<<"$accepted") ))
done
echo "moved $moved"
