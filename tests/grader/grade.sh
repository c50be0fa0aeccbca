#!/bin/sh
# grade.sh - the grading pipeline on the learner fixtures, in TAP.
#
# Runs cohort-grade for real (sandbox, compiler, ThreadSanitizer,
# benchmark) on tests/fixtures/solutions/parallel-sum and checks each
# verdict, score and report; then verifies the exercise and two broken
# copies of it.  Needs root, like the sandbox; skipped otherwise.

set -u
src=${COHORTD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${COHORTD_BUILDDIR:-$src}
grade=$build/cohort-grade
ex=$src/exercises/parallel-sum
fx=$src/tests/fixtures/solutions/parallel-sum

. "$src/tests/grader/lib.sh"

if [ "$(id -u)" != 0 ]; then
	tap_skip_all "the sandbox needs root"
fi

work=$(mktemp -d /tmp/cohort-grade-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
mkdir "$work/scratch"

# grade NAME FILE [OPTION]...: parallel-sum, the result in $work/NAME.json
grade() {
	name=$1
	file=$2
	shift 2
	run_grade "$name" "$ex" "$file" "$@"
}

# ---- the real speedup measurement first, on a quiet machine ---------
grade parallel "$fx/parallel.c"
check parallel 'r["verdict"] == "accepted" and r["score_breakdown"]["correctness"] == 70 and r["race"]["checked"] and not r["race"]["detected"] and r["speedup"]["median"] >= r["speedup"]["target"] and r["score"] == 100 and r["speedup"]["rounds"] >= 5 and r["speedup"]["baseline_ms"] > 50'
tap $? "parallel.c: accepted with full speedup credit" "$work/parallel.diag"

grade serial "$fx/serial.c" --repetitions=3
check serial 'r["verdict"] == "accepted" and r["score_breakdown"]["correctness"] == 70 and r["speedup"]["median"] < 1.2 and r["score_breakdown"]["speedup"] < 12'
tap $? "serial.c: accepted, correctness credit only" "$work/serial.diag"

grade racy "$fx/racy.c"
check racy 'r["verdict"] == "data_race" and r["score"] == 0 and r["race"]["detected"] and r["race"]["report"].startswith("In your code:") and "learner.c:" in r["race"]["report"] and r["speedup"] is None'
tap $? "racy.c: data_race, no credit, report points into learner.c" "$work/racy.diag"

grade wrong "$fx/wrong.c"
check wrong 'r["verdict"] == "wrong_answer" and 0 < r["score_breakdown"]["correctness"] < 70 and failed[0]["verdict"] == "wrong_answer" and r["speedup"] is None'
tap $? "wrong.c: wrong_answer with partial correctness" "$work/wrong.diag"

grade deadlock "$fx/deadlock.c"
# The stacks: every thread's, as lines of the fixture (34 and 36 take the
# mutexes, 60 joins the threads).
check deadlock 'r["verdict"] == "deadlock" and "lock" in msg and "Each thread at that moment" in msg and ("learner.c:34 in run: \"pthread_mutex_lock(" in msg or "learner.c:36 in run: \"pthread_mutex_lock(" in msg) and "thread 1 (main): learner.c:60 in sum_array" in msg and msg.count("\n  thread ") >= 3 and secs < 40'
tap $? "deadlock.c: deadlock with a hint and every thread's stack in learner.c, skipping the other tests" \
    "$work/deadlock.diag"

grade nocompile "$fx/nocompile.c"
check nocompile 'r["verdict"] == "compile_error" and not r["compile"]["ok"] and "learner.c:" in r["compile"]["log"] and "error" in r["compile"]["log"] and r["score"] == 0'
tap $? "nocompile.c: compile_error with the compiler's log" \
    "$work/nocompile.diag"

grade forkbomb "$fx/forkbomb.c"
check forkbomb 'r["verdict"] in ("runtime_error", "time_limit") and r["score"] < 10' &&
    box_leftovers >>"$work/forkbomb.diag"
tap $? "forkbomb.c: not accepted, nothing left running" "$work/forkbomb.diag"

grade readfiles "$fx/readfiles.c"
check readfiles 'r["verdict"] in ("wrong_answer", "runtime_error") and r["score"] == 0'
rc=$?
# Not one line of the host's shadow file may appear anywhere in the result.
if [ $rc = 0 ] && [ -r /etc/shadow ]; then
	grep -v '^[[:space:]]*$' /etc/shadow >"$work/shadow"
	if grep -F -q -f "$work/shadow" "$work/readfiles.json"; then
		echo "the result contains a line of /etc/shadow" \
		    >>"$work/readfiles.diag"
		rc=1
	fi
fi
tap $rc "readfiles.c: not accepted, no shadow data in the result" \
    "$work/readfiles.diag"

grade flood "$fx/flood.c"
check flood 'r["verdict"] == "output_limit" and r["score"] == 0'
tap $? "flood.c: output_limit" "$work/flood.diag"

grade hook "$fx/sanitizer_hook.c"
check hook 'r["verdict"] == "compile_error" and r["compile"].get("rejected") and "__tsan_" in r["compile"]["log"] and r["score"] == 0'
tap $? "sanitizer_hook.c: refused before compiling" "$work/hook.diag"

# A hook spelled through a macro, and code that changes under TSan.
cat >"$work/pasted.c" <<'EOF'
#include "exercise.h"
#define CAT(a, b) a##b
const char *CAT(__ts, an_default_options)(void) { return "report_bugs=0"; }
int64_t sum_array(const int32_t *a, size_t n, int threads)
{ int64_t s = 0; (void)threads; for (size_t i = 0; i < n; i++) s += a[i]; return s; }
EOF
grade pasted "$work/pasted.c"
check pasted 'r["verdict"] == "compile_error" and r["compile"].get("rejected")'
tap $? "a hook assembled by token pasting is refused" "$work/pasted.diag"

cat >"$work/tsanonly.c" <<'EOF'
#include "exercise.h"
int64_t sum_array(const int32_t *a, size_t n, int threads)
{
	int64_t s = 0;
	(void)threads;
#ifndef __SANITIZE_THREAD__
	s = 1;	/* behaves differently when nobody is watching */
#endif
	for (size_t i = 0; i < n; i++)
		s += a[i];
	return s;
}
EOF
grade tsanonly "$work/tsanonly.c"
check tsanonly 'r["verdict"] == "compile_error" and r["compile"].get("rejected") and "ThreadSanitizer" in r["compile"]["log"]'
tap $? "code that changes under ThreadSanitizer is refused" \
    "$work/tsanonly.diag"

# ---- the harness stays the harness (docs/GRADING.md) -----------------
for f in cheat-printf cheat-asm-label helper-not-static; do
	grade "$f" "$fx/$f.c" --repetitions=1
	check "$f" 'r["verdict"] == "compile_error" and r["compile"].get("rejected") and "defines" in r["compile"]["log"] and r["score"] == 0'
	tap $? "$f.c: a global the reference does not define is refused" \
	    "$work/$f.diag"
done

grade ctor "$fx/cheat-constructor.c" --repetitions=1
check ctor 'r["verdict"] == "compile_error" and r["compile"].get("rejected") and "constructors" in r["compile"]["log"]'
tap $? "cheat-constructor.c: code before main is refused" "$work/ctor.diag"

grade ifunc "$fx/cheat-ifunc.c" --repetitions=1
check ifunc 'r["verdict"] == "compile_error" and r["compile"].get("rejected") and "ifunc" in r["compile"]["log"]'
tap $? "cheat-ifunc.c: a static ifunc, code before main, is refused" \
    "$work/ifunc.diag"

grade annotate "$fx/cheat-annotate.c" --repetitions=1
check annotate 'r["verdict"] == "compile_error" and r["compile"].get("rejected") and "weak" in r["compile"]["log"]'
tap $? "cheat-annotate.c: a weak reference to the race runtime is refused" \
    "$work/annotate.diag"

grade skiprace "$fx/skips-race-inputs.c" --repetitions=1
check skiprace 'r["verdict"] != "accepted" and r["score"] == 0 and "race test" in (r["race"].get("message") or "")'
tap $? "skips-race-inputs.c: failing on the race tests' inputs fails" \
    "$work/skiprace.diag"

grade threads "$fx/too-many-threads.c" --repetitions=1
check threads 'r["verdict"] in ("wrong_answer", "runtime_error") and any("more threads" in t["message"] for t in failed) and r["score_breakdown"]["correctness"] < 70'
tap $? "too-many-threads.c: the thread limit holds, and says so" \
    "$work/threads.diag"

grade tsanexit "$fx/exits-under-tsan.c" --repetitions=1
check tsanexit 'r["verdict"] != "accepted" and r["score"] == 0 and (r["race"]["detected"] or "ThreadSanitizer" in (r["race"].get("message") or ""))'
tap $? "exits-under-tsan.c: leaving the race build early fails" \
    "$work/tsanexit.diag"

# The same source screens the same way every time, __TIMESTAMP__ or not.
rc=0
for i in 1 2 3; do
	grade "stamp$i" "$fx/timestamp.c" --repetitions=1
	check "stamp$i" 'r["verdict"] == "accepted" and r["compile"]["ok"]' ||
	    { rc=1; cat "$work/stamp$i.diag" >>"$work/stamp.diag"; }
done
tap $rc "timestamp.c: accepted on every one of three gradings" \
    "$work/stamp.diag"

# Hidden inputs: each grading draws its own, the reference runs on them.
grade seedA "$fx/parallel.c" --repetitions=1 --seed=11
grade seedB "$fx/parallel.c" --repetitions=1 --seed=12
check seedA 'r["verdict"] == "accepted" and r["seed"] == "11"' &&
    check seedB 'r["verdict"] == "accepted" and r["seed"] == "12"'
rc=$?
cat "$work/seedA.diag" >>"$work/seedB.diag"
tap $rc "graded on the seed drawn for the grading, whatever it is" \
    "$work/seedB.diag"

# ---- the reference-output cache is keyed and really used ------------
mkdir "$work/cache"
grade cache1 "$fx/wrong.c" --cache="$work/cache" --seed=7
cached=$(ls "$work/cache"/*.json 2>/dev/null | head -n 1)
python3 - "$cached" <<'EOF' 2>"$work/cache2.diag"
import json, sys
c = json.load(open(sys.argv[1]))
c["tests"]["empty-1-thread"] = "not what the reference printed\n"
json.dump(c, open(sys.argv[1], "w"))
EOF
grade cache2 "$fx/wrong.c" --cache="$work/cache" --seed=7
check cache1 'r["tests"][0]["passed"]' &&
    check cache2 'r["tests"][0]["verdict"] == "wrong_answer"'
rc=$?
cat "$work/cache1.diag" >>"$work/cache2.diag"
tap $rc "reference outputs come from the cache once stored" \
    "$work/cache2.diag"

# ---- verification of exercises ---------------------------------------
verify() {	# verify NAME DIR
	"$grade" verify --exercise="$2" --workdir="$work/scratch" \
	    --repetitions=3 >"$work/$1.json" 2>"$work/$1.err" &
	echo $! >>"$work/pids"
	wait $!
	echo "exit status $?" >>"$work/$1.err"
	echo 0 >"$work/$1.secs"
}

verify verify-ok "$ex"
check verify-ok 'r["status"] == "ready" and r["report"]["verdict"] == "accepted" and r["report"]["speedup"]["median"] >= 1.5'
tap $? "verify: parallel-sum is ready" "$work/verify-ok.diag"

cp -r "$ex" "$work/ex-wrong"
cp "$fx/wrong.c" "$work/ex-wrong/reference.c"
verify verify-wrong "$work/ex-wrong"
check verify-wrong 'r["status"] == "rejected" and "reference" in r["reason"]'
tap $? "verify: a wrong reference is rejected" "$work/verify-wrong.diag"

cp -r "$ex" "$work/ex-slow"
cp "$fx/serial.c" "$work/ex-slow/reference.c"
verify verify-slow "$work/ex-slow"
check verify-slow 'r["status"] == "rejected" and "speedup" in r["reason"] and r["report"]["speedup"]["median"] < 1.5'
tap $? "verify: a reference short of its target speedup is rejected" \
    "$work/verify-slow.diag"

sed 's/"threads": 2, "target_speedup"/"threads": 0, "target_speedup"/' \
    "$ex/exercise.json" >"$work/ex-wrong/exercise.json"
"$grade" verify --exercise="$work/ex-wrong" >"$work/bad.out" 2>&1
[ $? = 2 ] && grep -q threads "$work/bad.out"
tap $? "an invalid exercise.json is refused with a reason" "$work/bad.out"

# ---- nothing is left behind ------------------------------------------
{ box_leftovers; ls -A "$work/scratch" | sed 's/^/scratch left: /'; } \
    >"$work/left" 2>&1
[ ! -s "$work/left" ]
tap $? "no box process, cgroup or scratch directory is left" "$work/left"
tap_done
