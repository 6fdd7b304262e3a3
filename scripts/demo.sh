#!/usr/bin/env bash
# Runs the whole pipeline on devstack with the example rules, plays the
# example traffic through the tracker and shows each stage transition.
# Expects make build to have run. Environment:
#   DEMO_KEEP_RUNNING=1   keep devstack running after the traffic
#   DEMO_HTTP, DEMO_KAFKA tracker and broker addresses (default: free ports)
set -euo pipefail
cd "$(dirname "$0")/.."

go build -C services/devstack -o ../../bin/demotraffic ./cmd/demotraffic

data=$(mktemp -d "${TMPDIR:-/tmp}/leadstream-demo.XXXXXX")
log="$data/devstack.log"
bin/devstack --rules deploy/rules/example.yaml --sinks deploy/sinks/demo.yaml \
	--http "${DEMO_HTTP:-127.0.0.1:0}" --kafka "${DEMO_KAFKA:-127.0.0.1:0}" \
	--data-dir "$data" --write-key wk_demo >"$log" 2>&1 &
pid=$!

stop() {
	if [[ -n "${tailpid:-}" ]]; then kill "$tailpid" 2>/dev/null || true; fi
	if kill -0 "$pid" 2>/dev/null; then
		echo "stopping devstack"
		kill -TERM "$pid"
		wait "$pid" || echo "devstack exited with status $?; its log: $log"
	fi
	if [[ "${DEMO_KEEP_DATA:-}" != 1 ]]; then rm -rf "$data"; fi
}
trap stop EXIT

echo "starting devstack (log: $log)"
ready=""
for _ in $(seq 1 240); do
	ready=$(grep -m1 'devstack ready' "$log" || true)
	[[ -n "$ready" ]] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "devstack exited before it was ready:"; tail -n 40 "$log"; exit 1
	fi
	sleep 0.5
done
if [[ -z "$ready" ]]; then
	echo "devstack was not ready within 120s:"; tail -n 40 "$log"; exit 1
fi
echo "$ready"
tracker=$(sed -E 's/.*tracker=([^ ]+).*/\1/' <<<"$ready")
kafka=$(sed -E 's/.*kafka=([^ ]+).*/\1/' <<<"$ready")

if ! bin/demotraffic --tracker "$tracker" --kafka-brokers "$kafka" --write-key wk_demo \
	--events deploy/rules/example-events.jsonl --rules deploy/rules/example.yaml; then
	echo "the pipeline did not produce exactly the transitions the rules expect (see above); devstack log:"
	tail -n 40 "$log"
	DEMO_KEEP_DATA=1
	exit 1
fi

if [[ "${DEMO_KEEP_RUNNING:-}" == 1 ]]; then
	echo
	echo "devstack keeps running: tracker $tracker, broker $kafka, write key wk_demo"
	echo "try: curl -s -X POST $tracker/v1/events -d '{\"write_key\":\"wk_demo\",\"events\":[{\"type\":\"page_view\",\"anonymous_id\":\"a-me\",\"url\":\"https://example.com/pricing\"}]}'"
	echo "press Ctrl-C to stop"
	trap 'stop; exit 0' INT TERM
	tail -n +1 -f "$log" &
	tailpid=$!
	wait "$pid" || true
fi
