#!/usr/bin/env bash
# verify-local.sh - developer check of the built-in exercise catalog, outside
# the sandbox: builds every exercise's harness with its reference and its
# starter, runs the tests, the race tests under ThreadSanitizer and the
# benchmark, then runs the learner fixtures that are safe to run here.
#
# Usage: exercises/verify-local.sh [SLUG...]
#   SLUG      only these exercises (default: every folder with an exercise.json)
#   CC        compiler (default gcc)
#   REPS      benchmark repetitions (default: the exercise's "repetitions")
#   MAX_ROUNDS  rounds of REPS runs pooled while a speedup is short (default 3)
#
# Checks, per exercise:
#   build       harness + reference and harness + starter compile without
#               warnings; harness + reference also with -fsanitize=thread
#   tests       every test passes for the reference, and the starter prints
#               exactly what the reference prints (per the exercise's checker)
#   race tests  the ThreadSanitizer build of the reference reports nothing and
#               prints what the plain build prints
#   benchmark   median time with 1 thread over median time with 2 threads
#               reaches target_speedup (while it falls short, up to MAX_ROUNDS
#               rounds of REPS runs are pooled: a busy machine makes timings
#               noisy)
#   fixtures    tests/fixtures/solutions/SLUG/*.c behave as their first-line
#               "expect:" comment says
#
# This is not the grader: it does not confine anything.  Fixtures whose
# expect line says "never run it outside the sandbox" are only compiled.
# Prints one line per check and ends with "N passed, N failed"; exits 1 if
# any check failed.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
fixtures="$top/tests/fixtures/solutions"
CC=${CC:-gcc}
CFLAGS="-O2 -pthread -std=gnu11"
TSAN_CFLAGS="-fsanitize=thread -g -O1 -pthread -std=gnu11"
WARN_CFLAGS="-Wall -Wextra -Werror"
SLOW_TEST_MS=100	# correctness tests should stay below this
SLOW_RACE_MS=2000	# race tests under ThreadSanitizer should stay below this
FIXTURE_TIMEOUT_S=5	# per fixture run: long enough for any test, short enough to wait for a deadlock

work=$(mktemp -d "${TMPDIR:-/tmp}/verify-exercises.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
warnings=0

# result STATUS LABEL DETAIL: print one check line and count it.
result() {
	local status=$1 label=$2 detail=${3:-}
	printf '  %-30s %-4s %s\n' "$label" "$status" "$detail"
	case $status in
	ok) passed=$((passed + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	esac
}

# ThreadSanitizer in gcc 12 aborts with "unexpected memory mapping" on kernels
# with many bits of mmap randomisation; running without ASLR avoids that.
tsan_run=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
	tsan_run=(setarch "$(uname -m)" -R)
fi
have_time=0
[ -x /usr/bin/time ] && have_time=1

# run TIMEOUT_S OUT ERR CMD...: run with a wall-clock limit; sets RC (124
# after a timeout), MS (elapsed), CPU_MS (user + system, if measurable).
run() {
	local tmo=$1 out=$2 err=$3 s e
	shift 3
	s=$(date +%s%N)
	if [ "$have_time" = 1 ]; then
		/usr/bin/time -f '%U %S' -o "$work/rusage" timeout -s KILL "$tmo" "$@" >"$out" 2>"$err"
		RC=$?
	else
		timeout -s KILL "$tmo" "$@" >"$out" 2>"$err"
		RC=$?
	fi
	e=$(date +%s%N)
	MS=$(((e - s) / 1000000))
	[ "$RC" = 137 ] && RC=124	# killed by timeout
	CPU_MS=-1
	if [ "$have_time" = 1 ] && [ -s "$work/rusage" ]; then
		CPU_MS=$(awk 'END { printf "%d", ($(NF-1) + $NF) * 1000 }' "$work/rusage")
	fi
}

# same_output CHECKER EXPECTED ACTUAL
same_output() {
	case $1 in
	exact) cmp -s "$2" "$3" ;;
	sorted_lines) cmp -s <(LC_ALL=C sort "$2") <(LC_ALL=C sort "$3") ;;
	numeric)
		python3 - "$2" "$3" <<'PY'
import sys
a, b = (open(p).read().split() for p in sys.argv[1:3])
def close(x, y):
    if x == y:
        return True
    try:
        fx, fy = float(x), float(y)
    except ValueError:
        return False
    return abs(fx - fy) <= 1e-6 * max(1.0, abs(fx), abs(fy))
sys.exit(0 if len(a) == len(b) and all(map(close, a, b)) else 1)
PY
		;;
	*) return 2 ;;
	esac
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# plan SLUG: turn exercise.json into tab-separated lines the loops below read.
#   T name threads args   R name threads args   B threads target reps args
#   C checker   L ldlibs   W wall_ms   (args separated by \x1f)
plan() {
	python3 - "$here/$1/exercise.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
us = "\x1f"
print("C\t" + d["checker"])
print("L\t" + " ".join(d.get("ldlibs", [])))
print("W\t%d" % d["limits"]["wall_ms"])
for t in d["tests"]:
    print("T\t%s\t%d\t%s" % (t["name"], t["threads"], us.join(t["args"])))
for t in d["race_tests"]:
    print("R\t%s\t%d\t%s" % (t["name"], t["threads"], us.join(t["args"])))
b = d["benchmark"]
print("B\t%d\t%s\t%d\t%s" % (b["threads"], b["target_speedup"], b["repetitions"], us.join(b["args"])))
PY
}

# bench BIN THREADS ARGS...: median times with 1 and N threads into
# BENCH_T1 / BENCH_TN (ms), over REPS interleaved rounds (appending to the
# samples already in $work/b1, $work/bn).
bench() {
	local bin=$1 n=$2 r
	shift 2
	for ((r = 0; r < reps; r++)); do
		run 60 "$work/bench.out" "$work/bench.err" "$bin" "$@" --threads 1
		echo "$MS" >>"$work/b1"
		run 60 "$work/bench.out" "$work/bench.err" "$bin" "$@" --threads "$n"
		echo "$MS" >>"$work/bn"
	done
	BENCH_T1=$(median <"$work/b1")
	BENCH_TN=$(median <"$work/bn")
	BENCH_SPEEDUP=$(awk -v a="$BENCH_T1" -v b="$BENCH_TN" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
}

# measure_speedup BIN: bench; while short of the target, up to MAX_ROUNDS
# rounds in all, bench again and take the medians over every round (other
# work on a shared 2-core machine comes in bursts).
MAX_ROUNDS=${MAX_ROUNDS:-3}
measure_speedup() {
	local bin=$1 round=1
	rm -f "$work/b1" "$work/bn"
	bench "$bin" "$bench_threads" "${bench_args[@]}"
	while [ "$round" -lt "$MAX_ROUNDS" ] &&
		awk -v s="$BENCH_SPEEDUP" -v t="$target" 'BEGIN { exit !(s < t) }'; do
		bench "$bin" "$bench_threads" "${bench_args[@]}"
		round=$((round + 1))
	done
	REMEASURED=""
	[ "$round" -gt 1 ] && REMEASURED=" (over $round rounds)"
}

# check_fixture SLUG FILE: run one learner fixture like a grader would and
# compare with its "expect:" line.
check_fixture() {
	local slug=$1 src=$2 name expect verdicts want_speedup observed detail bin i
	name=$(basename "$src")
	expect=$(head -n 1 "$src" | sed -n 's#^/\* expect: \([^ ]*\)\( speedup=[a-z]*\)\{0,1\} -- .*#\1\2#p')
	if [ -z "$expect" ]; then
		result FAIL "fixture $name" "first line has no '/* expect: VERDICT -- why */' comment"
		return
	fi
	verdicts=" $(echo "${expect%% *}" | tr '|' ' ') "
	want_speedup=$(echo "$expect" | sed -n 's/.*speedup=\([a-z]*\).*/\1/p')
	bin="$work/fixture"
	detail=""

	if ! $CC $CFLAGS -I"$here/$slug" "$here/$slug/harness.c" "$src" -o "$bin" $ldlibs 2>"$work/cc.err"; then
		observed=compile_error
	elif head -n 1 "$src" | grep -q 'never run it outside the sandbox'; then
		result ok "fixture $name" "compiles; not run outside the sandbox (expect ${expect})"
		return
	elif [[ $verdicts == *" output_limit "* ]]; then
		local bytes
		IFS=$'\x1f' read -r -a args <<<"${test_args[0]}"
		bytes=$(timeout -s KILL "$FIXTURE_TIMEOUT_S" "$bin" "${args[@]}" --threads "${test_threads[0]}" 2>/dev/null |
			head -c $((4 << 20)) | wc -c)
		if [ "$bytes" -ge $((4 << 20)) ]; then observed=output_limit; else observed="short output ($bytes bytes)"; fi
	elif [[ $verdicts == *" rejected "* ]]; then
		# The grader must refuse any learner object that defines a sanitizer hook.
		if nm "$bin" 2>/dev/null | grep -Eq ' T __(tsan|asan|ubsan|lsan|msan)_default_(options|suppressions)'; then
			local silent=no
			if $CC $TSAN_CFLAGS -I"$here/$slug" "$here/$slug/harness.c" "$src" -o "$bin.tsan" $ldlibs 2>/dev/null; then
				IFS=$'\x1f' read -r -a args <<<"${race_args[0]}"
				run 30 "$work/fx.out" "$work/fx.err" "${tsan_run[@]}" "$bin.tsan" "${args[@]}" --threads "${race_threads[0]}"
				grep -q 'WARNING: ThreadSanitizer' "$work/fx.err" || silent=yes
			fi
			observed=rejected
			detail="defines a sanitizer hook (race report silenced: $silent)"
		else
			observed="no sanitizer hook found"
		fi
	else
		observed=accepted
		for ((i = 0; i < ${#test_names[@]}; i++)); do
			IFS=$'\x1f' read -r -a args <<<"${test_args[$i]}"
			run "$FIXTURE_TIMEOUT_S" "$work/fx.out" "$work/fx.err" "$bin" "${args[@]}" --threads "${test_threads[$i]}"
			if [ "$RC" = 124 ]; then
				if [ "$CPU_MS" -ge 0 ] && [ "$CPU_MS" -gt $((FIXTURE_TIMEOUT_S * 1000 / 2)) ]; then
					observed=time_limit
				else
					observed=deadlock
				fi
				detail="at test ${test_names[$i]}, cpu ${CPU_MS} ms"
				break
			elif [ "$RC" != 0 ]; then
				observed=runtime_error
				detail="at test ${test_names[$i]}, exit status $RC"
				break
			elif ! same_output "$checker" "$work/$slug.ref.$i" "$work/fx.out"; then
				observed=wrong_answer
				detail="at test ${test_names[$i]}"
				break
			fi
		done
		if [ "$observed" = accepted ]; then
			if $CC $TSAN_CFLAGS -I"$here/$slug" "$here/$slug/harness.c" "$src" -o "$bin.tsan" $ldlibs 2>"$work/cc.err"; then
				local reported=0
				for ((i = 0; i < ${#race_names[@]}; i++)); do
					IFS=$'\x1f' read -r -a args <<<"${race_args[$i]}"
					run 30 "$work/fx.out" "$work/fx.err" "${tsan_run[@]}" "$bin.tsan" "${args[@]}" --threads "${race_threads[$i]}"
					grep -q 'WARNING: ThreadSanitizer: data race' "$work/fx.err" && reported=$((reported + 1))
				done
				if [ "$reported" -gt 0 ]; then
					observed=data_race
					detail="reported in $reported of ${#race_names[@]} race tests"
				fi
			else
				observed="does not build with ThreadSanitizer"
			fi
		fi
		if [ "$observed" = accepted ]; then
			measure_speedup "$bin"
			local got=none
			awk -v s="$BENCH_SPEEDUP" -v t="$target" 'BEGIN { exit !(s >= t) }' && got=full
			observed="accepted speedup=$got"
			detail="speedup $BENCH_SPEEDUP, target $target$REMEASURED"
		fi
	fi

	local v=${observed%% *} s=""
	[[ $observed == *speedup=* ]] && s=${observed##*speedup=}
	if [[ $verdicts == *" $v "* ]] && { [ -z "$want_speedup" ] || [ "$want_speedup" = "$s" ]; }; then
		result ok "fixture $name" "$observed${detail:+; $detail}"
	else
		result FAIL "fixture $name" "expected ${expect}, got $observed${detail:+; $detail}"
	fi
}

if [ $# -gt 0 ]; then
	slugs=("$@")
else
	slugs=()
	for f in "$here"/*/exercise.json; do
		slugs+=("$(basename "$(dirname "$f")")")
	done
fi

# Speedups mean little on a machine that is already busy: say how busy.
loadavg() { cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo "?"; }
echo "load average at start: $(loadavg) (on $(nproc 2>/dev/null || echo "?") CPUs)"

for slug in "${slugs[@]}"; do
	dir="$here/$slug"
	echo "== $slug"
	if [ ! -f "$dir/exercise.json" ]; then
		result FAIL "exercise.json" "missing"
		continue
	fi
	for f in statement.md exercise.h harness.c reference.c starter.c; do
		[ -f "$dir/$f" ] || result FAIL "$f" "missing"
	done

	test_names=() test_threads=() test_args=() race_names=() race_threads=() race_args=()
	checker=exact ldlibs="" wall_ms=10000
	while IFS=$'\t' read -r kind a b c d; do
		case $kind in
		C) checker=$a ;;
		L) ldlibs=$a ;;
		W) wall_ms=$a ;;
		T) test_names+=("$a") test_threads+=("$b") test_args+=("$c") ;;
		R) race_names+=("$a") race_threads+=("$b") race_args+=("$c") ;;
		B) bench_threads=$a target=$b reps=${REPS:-$c}
		   IFS=$'\x1f' read -r -a bench_args <<<"$d" ;;
		esac
	done < <(plan "$slug")
	wall_s=$(((wall_ms + 999) / 1000))

	# Build.
	ok=1
	for v in reference starter; do
		if ! $CC $CFLAGS $WARN_CFLAGS -I"$dir" "$dir/harness.c" "$dir/$v.c" -o "$work/$slug.$v" $ldlibs 2>"$work/cc.err"; then
			result FAIL "build $v" "$(head -n 3 "$work/cc.err" | tr '\n' ' ')"
			ok=0
		fi
	done
	if ! $CC $TSAN_CFLAGS -I"$dir" "$dir/harness.c" "$dir/reference.c" -o "$work/$slug.tsan" $ldlibs 2>"$work/cc.err"; then
		result FAIL "build reference (tsan)" "$(head -n 3 "$work/cc.err" | tr '\n' ' ')"
		ok=0
	fi
	[ "$ok" = 1 ] || continue
	result ok "build" "reference, starter, reference with ThreadSanitizer"

	# Correctness tests: the reference must run cleanly, the starter must agree.
	bad="" slowest=0 slowest_name="" slow=""
	for ((i = 0; i < ${#test_names[@]}; i++)); do
		IFS=$'\x1f' read -r -a args <<<"${test_args[$i]}"
		run "$wall_s" "$work/$slug.ref.$i" "$work/err" "$work/$slug.reference" "${args[@]}" --threads "${test_threads[$i]}"
		if [ "$RC" != 0 ]; then
			bad+=" ${test_names[$i]}(reference exit $RC)"
			continue
		fi
		[ "$MS" -gt "$slowest" ] && slowest=$MS slowest_name=${test_names[$i]}
		[ "$MS" -gt "$SLOW_TEST_MS" ] && slow+=" ${test_names[$i]}:${MS}ms"
		run "$wall_s" "$work/starter.out" "$work/err" "$work/$slug.starter" "${args[@]}" --threads "${test_threads[$i]}"
		if [ "$RC" != 0 ]; then
			bad+=" ${test_names[$i]}(starter exit $RC)"
		elif ! same_output "$checker" "$work/$slug.ref.$i" "$work/starter.out"; then
			bad+=" ${test_names[$i]}(starter differs)"
		fi
	done
	if [ -n "$bad" ]; then
		result FAIL "tests (${#test_names[@]})" "$bad"
	else
		result ok "tests (${#test_names[@]})" "starter agrees with reference; slowest $slowest_name ${slowest} ms"
	fi
	if [ -n "$slow" ]; then
		echo "  note: reference tests over ${SLOW_TEST_MS} ms:$slow"
		warnings=$((warnings + 1))
	fi

	# Race tests: ThreadSanitizer build of the reference.
	bad="" slowest=0
	for ((i = 0; i < ${#race_names[@]}; i++)); do
		IFS=$'\x1f' read -r -a args <<<"${race_args[$i]}"
		run "$wall_s" "$work/plain.out" "$work/err" "$work/$slug.reference" "${args[@]}" --threads "${race_threads[$i]}"
		run 30 "$work/tsan.out" "$work/tsan.err" "${tsan_run[@]}" "$work/$slug.tsan" "${args[@]}" --threads "${race_threads[$i]}"
		[ "$MS" -gt "$slowest" ] && slowest=$MS
		if grep -q 'unexpected memory mapping' "$work/tsan.err"; then
			bad+=" ${race_names[$i]}(ThreadSanitizer cannot run on this kernel: try setarch -R)"
		elif grep -q 'ThreadSanitizer' "$work/tsan.err" || [ "$RC" != 0 ]; then
			bad+=" ${race_names[$i]}(report or exit $RC: $(grep -m 1 'WARNING' "$work/tsan.err"))"
		elif ! same_output "$checker" "$work/plain.out" "$work/tsan.out"; then
			bad+=" ${race_names[$i]}(output differs from the plain build)"
		elif [ "$MS" -gt "$SLOW_RACE_MS" ]; then
			bad+=" ${race_names[$i]}(${MS} ms, over ${SLOW_RACE_MS} ms)"
		fi
	done
	if [ -n "$bad" ]; then
		result FAIL "race tests (${#race_names[@]})" "$bad"
	else
		result ok "race tests (${#race_names[@]})" "no report; slowest ${slowest} ms"
	fi

	# Benchmark: the output must not depend on the thread count, and the
	# reference must reach the target.
	run 60 "$work/b1.out" "$work/err" "$work/$slug.reference" "${bench_args[@]}" --threads 1
	run 60 "$work/bn.out" "$work/err" "$work/$slug.reference" "${bench_args[@]}" --threads "$bench_threads"
	if ! same_output "$checker" "$work/b1.out" "$work/bn.out"; then
		result FAIL "benchmark" "output with 1 thread differs from output with $bench_threads"
	else
		rss=""
		if [ "$have_time" = 1 ]; then
			/usr/bin/time -f '%M' -o "$work/rss" "$work/$slug.reference" "${bench_args[@]}" --threads "$bench_threads" >/dev/null 2>&1
			rss=", peak $(( $(tail -n 1 "$work/rss") / 1024 )) MB"
		fi
		measure_speedup "$work/$slug.reference"
		detail="1 thread ${BENCH_T1} ms, $bench_threads threads ${BENCH_TN} ms, speedup ${BENCH_SPEEDUP} (target ${target})${REMEASURED}${rss}"
		if awk -v s="$BENCH_SPEEDUP" -v t="$target" 'BEGIN { exit !(s >= t) }'; then
			result ok "benchmark" "$detail"
		else
			result FAIL "benchmark" "$detail"
		fi
		if [ "${BENCH_T1%.*}" -lt 150 ] || [ "${BENCH_T1%.*}" -gt 400 ]; then
			echo "  note: serial benchmark run ${BENCH_T1} ms is outside 150-400 ms"
			warnings=$((warnings + 1))
		fi
	fi

	# Fixtures.
	if [ -d "$fixtures/$slug" ]; then
		for src in "$fixtures/$slug"/*.c; do
			check_fixture "$slug" "$src"
		done
	fi
done

echo
echo "load average at end: $(loadavg); if it was near or above the CPU count, re-run before trusting speedups"
[ "$warnings" -gt 0 ] && echo "$warnings note(s) above"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
