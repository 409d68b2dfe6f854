# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by e2e tests: paths, fixtures, assertions.
set -euo pipefail
GS_TOP=${GS_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GS_BUILD=${GS_BUILD:-$GS_TOP/build}
GSI="$GS_BUILD/ghostscope-index"
GS="$GS_BUILD/ghostscope"
FIX="$GS_BUILD/fixtures"

# A private scratch directory per test, removed on exit.
T=$(mktemp -d /tmp/gs-e2e.XXXXXX)
trap 'rm -rf "$T"; [ -n "${GS_CLEANUP:-}" ] && eval "$GS_CLEANUP"' EXIT
export GHOSTSCOPE_INDEX_DIR="$T/cache"

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
need_root_bpf() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for BPF and uprobes"
	[ -e /sys/kernel/btf/vmlinux ] || skip "kernel has no BTF"
}
# Builds the fixtures once per build dir (cheap when up to date).
fixtures() { "$GS_TOP/tests/fixtures/build.sh" "$FIX" >/dev/null; }

# wait_exec PID PATH: waits until PID runs PATH. `prog &` gives the pid of a shell child
# that has not exec'd yet; `ghostscope -p` at that moment would trace the shell.
wait_exec() {
	local want
	want=$(readlink -f "$2")
	for _ in $(seq 200); do
		[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$want" ] && return 0
		sleep 0.01
	done
	fail "pid $1 never ran $2"
}

# assert_eq EXPECTED ACTUAL [what]
assert_eq() {
	if [ "$1" != "$2" ]; then
		echo "FAIL: ${3:-value}" >&2
		diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") >&2 || true
		exit 1
	fi
}
# assert_contains HAYSTACK NEEDLE [what]
assert_contains() {
	case "$1" in *"$2"*) ;; *) echo "FAIL: ${3:-output} lacks: $2" >&2; echo "--- got:" >&2; printf '%s\n' "$1" >&2; exit 1 ;; esac
}
