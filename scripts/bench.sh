#!/usr/bin/env bash
# Measure leadstream's throughput, latency and memory on this machine and
# print the summary table. BENCH_QUICK=1 runs short steps (a minute or
# two); BENCH_ARGS passes more flags to leadbench (see leadbench --help).
# Results go to bench/out/results.json and bench/out/chart.png.
set -euo pipefail
cd "$(dirname "$0")/.."

out=bench/out
bin="$out/bin"
mkdir -p "$bin"

if ! command -v redis-server >/dev/null; then
	echo "bench: redis-server is missing; run make setup" >&2
	exit 1
fi

# Build the services that exist; a missing one shows as n/a in the table.
for s in tracker scorer notifier; do
	if [ -d "services/$s/cmd/$s" ]; then
		(cd "services/$s" && go build -o "../../$bin/$s" "./cmd/$s")
	else
		echo "bench: services/$s has no command yet; its figures will be n/a" >&2
	fi
done
(cd services/devstack && go build -o "../../$bin/leadbench" ./cmd/leadbench)

args=(--bin "$bin" --out "$out" --log-format console --log-level warn
	--commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
if [ "${BENCH_QUICK:-0}" = "1" ]; then
	args+=(--quick)
fi
# shellcheck disable=SC2086
exec "$bin/leadbench" "${args[@]}" ${BENCH_ARGS:-}
