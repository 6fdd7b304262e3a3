#!/usr/bin/env bash
# Runs the full fault-injection suite: every scenario against the real
# tracker, scorers and notifier, with a workload of thousands of leads.
#
#   scripts/test-faults.sh                 one run with a seed from the clock
#   scripts/test-faults.sh 42              replay seed 42
#   FAULTS_SEEDS="1 2 3" scripts/test-faults.sh
#   FAULTS_LEADS=500 scripts/test-faults.sh 7
#
# It prints one summary line per scenario and exits non-zero when any
# scenario lost or miscounted anything, or when a service exited without
# being told to. A failing scenario prints the command that replays it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seeds="${FAULTS_SEEDS:-${1:-0}}"
leads="${FAULTS_LEADS:-0}"
run="${FAULTS_RUN:-TestScenarios}"

make build
status=0
for seed in $seeds; do
	echo "== fault suite, seed ${seed} (0: from the clock)"
	(cd services/devstack && go test -count=1 -timeout 60m -v -run "$run" \
		./internal/faults -faults.full -faults.seed "$seed" -faults.leads "$leads" \
		-faults.bin "$root/bin") | tee /tmp/leadstream-faults-$$.log |
		grep -E '^scenario=|^(---|ok|FAIL)|--- SKIP|seed [0-9]+ \(replay|replay with:' || true
	if grep -qE '^(--- FAIL|FAIL)' /tmp/leadstream-faults-$$.log; then
		status=1
		grep -E '^\s+(lost|wrong|exit):' /tmp/leadstream-faults-$$.log | head -40 || true
	fi
	rm -f /tmp/leadstream-faults-$$.log
done
exit "$status"
