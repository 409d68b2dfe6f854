#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every measure of the benchmark suite (issue 5) and assembles bench/REPORT.md from
# their tables. Each measure is its own script and can be run alone; a measure that
# fails is reported and the others still run.
# Usage: run-all.sh [--quick] [--runs N] [MEASURE...]   (measures: ready cold attach
#        perhit throughput memory; default all)
set -uo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
args=()
measures=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) args+=("$1") ;;
	--runs) args+=("$1" "$2"); shift ;;
	-*) echo "usage: $0 [--quick] [--runs N] [MEASURE...]" >&2; exit 2 ;;
	*) measures+=("$1") ;;
	esac
	shift
done
[ ${#measures[@]} -gt 0 ] || measures=(ready cold attach perhit throughput memory)
if [ "$(id -u)" -ne 0 ]; then
	echo "run-all: the benchmarks need root (uprobes, BPF, drop_caches)" >&2
	exit 1
fi

failed=()
for m in "${measures[@]}"; do
	echo "== $m" >&2
	t0=$SECONDS
	if ! "$DIR/$m.sh" "${args[@]}" >/dev/null; then
		failed+=("$m")
	fi
	echo "== $m: $((SECONDS - t0)) s" >&2
done
TOP=$(cd "$DIR/../.." && pwd)
echo "report: $TOP/bench/REPORT.md" >&2
if [ ${#failed[@]} -gt 0 ]; then
	echo "run-all: failed: ${failed[*]} (see bench/work/logs/)" >&2
	exit 1
fi
