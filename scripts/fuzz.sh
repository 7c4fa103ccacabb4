#!/usr/bin/env bash
# scripts/fuzz.sh — run each of the project's fuzz targets for a while.
#
# Usage: VOW_FUZZTIME=1m scripts/fuzz.sh [pkg:FuzzFunc ...]
#        (default 10s per target; no arguments = every target below)
#
# VOW_FUZZMINIMIZETIME (default 2s) caps how long the fuzzer minimises each
# new interesting input; Go's default of 60s can eat a short run whole.
#
# FUZZ_TARGETS lists "package:FuzzFunc" entries. A target whose package or
# function does not exist (yet) is skipped with a note, not an error.
# scripts/test.sh runs only the policy parser's target, briefly, as its last
# step: a test run must pass or fail on the code, not on what a random
# exploration happens to reach in ten seconds. `make fuzz` explores every
# target for longer; what it finds is fixed and its input kept under
# testdata/fuzz, where every plain `go test` replays it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZ_TARGETS=(
	./policy:FuzzLoad
	./dsr:FuzzVerifyCertificate
	./webhook:FuzzVerify
	./mailer:FuzzFromURL
	./mailer:FuzzBuild
	./consent:FuzzQueryValue
	./consent:FuzzUnsubscribe
	./connector:FuzzRebind
	./detect:FuzzScan
	./identity:FuzzNormalize
	./rowjson:FuzzParseArray
	./policy:FuzzCheckCondition
)

: "${VOW_FUZZTIME:=10s}"

if [ $# -gt 0 ]; then
	FUZZ_TARGETS=("$@")
fi

log() { printf '==> %s\n' "$*" >&2; }

case $VOW_FUZZTIME in
0 | 0s | off | no | false)
	log "fuzzing skipped (VOW_FUZZTIME=$VOW_FUZZTIME)"
	exit 0
	;;
esac

for target in "${FUZZ_TARGETS[@]}"; do
	pkg=${target%%:*}
	fn=${target##*:}
	if ! go list "$pkg" >/dev/null 2>&1; then
		log "skipping fuzz target $target: package $pkg does not exist (yet)"
		continue
	fi
	listed=$(go test -list "^${fn}\$" "$pkg" 2>/dev/null || true)
	if ! grep -qx "$fn" <<<"$listed"; then
		log "skipping fuzz target $target: no $fn in $pkg (yet)"
		continue
	fi
	log "fuzzing $fn in $pkg for $VOW_FUZZTIME"
	# Go's fuzzer sometimes ends a run with a bare "context deadline
	# exceeded" when its time is up while a worker is still minimising: no
	# input failed, nothing was written to testdata. That is retried once,
	# then reported as a warning; any real failure (a written input) fails.
	for attempt in 1 2; do
		out=$(mktemp)
		if go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$VOW_FUZZTIME" -fuzzminimizetime="${VOW_FUZZMINIMIZETIME:-2s}" "$pkg" 2>&1 | tee "$out"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
			rm -f "$out"
			break
		fi
		if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
			rm -f "$out"
			if [ "$attempt" -eq 2 ]; then
				log "warning: $fn ended twice with the fuzzer's own deadline error and no failing input"
			else
				log "$fn ended with the fuzzer's own deadline error and no failing input: retrying once"
			fi
			continue
		fi
		rm -f "$out"
		exit 1
	done
done
