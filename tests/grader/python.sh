#!/bin/sh
# python.sh - Python exercises through the real grading pipeline, in TAP.
#
# Grades the fixtures of tests/fixtures/solutions/{async-fetch,prime-pool,
# bank-threads} with cohort-grade (sandbox, screen, runner, benchmark) and
# checks each verdict and its message; then hostile programs, which must be
# contained; then verifies the three exercises.  Needs root, like the
# sandbox; skipped otherwise.

set -u
src=${COHORTD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${COHORTD_BUILDDIR:-$src}
grade=$build/cohort-grade
fx=$src/tests/fixtures/solutions

. "$src/tests/grader/lib.sh"

if [ "$(id -u)" != 0 ]; then
	tap_skip_all "the sandbox needs root"
fi
if [ ! -x /usr/bin/python3 ]; then
	tap_skip_all "no /usr/bin/python3"
fi

work=$(mktemp -d /tmp/cohort-python-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
mkdir "$work/scratch"

# grade NAME EXERCISE FILE [OPTION]...: the result in $work/NAME.json
grade() {
	name=$1
	exn=$2
	shift 2
	run_grade "$name" "$src/exercises/$exn" "$@"
}

# grade_measured NAME EXERCISE FILE [OPTION]...: grade, and while the
# result is provisional (the host could not measure: busy, or too few free
# CPUs for the reference's own parallelism) grade again, up to three times
# in all, as the service measures a provisional grade again later (a
# rebench job, daemon/worker.c).  The last result is checked.
grade_measured() {
	for try in 1 2 3; do
		grade "$@"
		python3 -c 'import json, sys
sys.exit(1 if json.load(open(sys.argv[1])).get("provisional") else 0)' \
		    "$work/$1.json" 2>/dev/null && return 0
		python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print("# %s: provisional on try %s (%s), measured again" % (sys.argv[2],
    sys.argv[3], (r.get("speedup") or {}).get("reason", "?")))' \
		    "$work/$1.json" "$1" "$try"
	done
}

# ---- prime-pool: the speedup measurement first ----------------------
pp=$fx/prime-pool
grade_measured pp-correct prime-pool "$pp/correct.py" --repetitions=3
check pp-correct 'r["verdict"] == "accepted" and r["score_breakdown"]["correctness"] == 70 and r["speedup"]["measured"] and r["speedup"]["reference"] >= 1.3 and r["score_breakdown"]["speedup"] >= 20 and "feedback" not in r["speedup"]'
tap $? "prime-pool correct.py: accepted with speedup credit" "$work/pp-correct.diag"

grade_measured pp-threads prime-pool "$pp/threadpool.py" --repetitions=3
check pp-threads 'r["verdict"] == "accepted" and r["score_breakdown"]["correctness"] == 70 and r["speedup"]["measured"] and r["speedup"]["learner_cpus"] < 1.3 and r["score_breakdown"]["speedup"] < 8 and "GIL" in r["speedup"]["feedback"] and "ms" in r["speedup"]["feedback"]'
tap $? "prime-pool threadpool.py: no speedup credit, the GIL explained with the numbers" "$work/pp-threads.diag"

grade pp-serial prime-pool "$pp/serial.py" --repetitions=2
check pp-serial 'r["verdict"] == "accepted" and r["score_breakdown"]["correctness"] == 70 and r["speedup"]["median"] < 1.25 and r["score_breakdown"]["speedup"] < 8'
tap $? "prime-pool serial.py: accepted, correctness credit only" "$work/pp-serial.diag"

grade pp-wrong prime-pool "$pp/wrong.py"
check pp-wrong 'r["verdict"] == "wrong_answer" and 0 < r["score"] < 70 and r["speedup"] is None'
tap $? "prime-pool wrong.py: wrong_answer with partial credit" "$work/pp-wrong.diag"

# ---- async-fetch: concurrency measured by the harness ---------------
af=$fx/async-fetch
grade af-seq async-fetch "$af/sequential.py"
check af-seq 'r["verdict"] == "wrong_answer" and "one after another" in msg and not any(t["verdict"] in ("deadlock", "time_limit") for t in tests)'
tap $? "async-fetch sequential.py: wrong_answer, fetches ran one after another" "$work/af-seq.diag"

grade af-unbounded async-fetch "$af/unbounded.py"
check af-unbounded 'r["verdict"] == "wrong_answer" and "more than the limit" in msg'
tap $? "async-fetch unbounded.py: wrong_answer, more in flight than the limit" "$work/af-unbounded.diag"

grade af-blocking async-fetch "$af/blocking.py"
check af-blocking 'r["verdict"] == "blocking_call" and "solution.py, line 12" in msg and "time.sleep" in msg'
tap $? "async-fetch blocking.py: blocking_call naming the line" "$work/af-blocking.diag"

grade af-wrong async-fetch "$af/wrong.py"
check af-wrong 'r["verdict"] == "wrong_answer" and 0 < r["score"] < 100'
tap $? "async-fetch wrong.py: wrong_answer (completion order)" "$work/af-wrong.diag"

# ---- bank-threads: races and deadlock --------------------------------
bt=$fx/bank-threads
grade bt-racy bank-threads "$bt/racy.py"
check bt-racy 'r["verdict"] == "data_race" and r["score"] == 0 and r["race"]["detected"] and "race test race-" in r["race"]["report"]'
tap $? "bank-threads racy.py: data_race naming the race test" "$work/bt-racy.diag"

grade bt-deadlock bank-threads "$bt/deadlock.py"
check bt-deadlock 'r["verdict"] == "deadlock" and "solution.py\", line" in (msg or r["race"]["message"]) and (msg or r["race"]["message"]).count("Thread 0x") >= 2 and secs < 60'
tap $? "bank-threads deadlock.py: deadlock with every thread's stack" "$work/bt-deadlock.diag"

# ---- hostile programs: contained -------------------------------------
grade h-read prime-pool "$pp/hostile-readfile.py"
check h-read 'r["verdict"] in ("runtime_error", "wrong_answer") and r["score"] == 0'
rc=$?
if [ $rc = 0 ] && [ -r /etc/shadow ]; then
	grep -v '^[[:space:]]*$' /etc/shadow >"$work/shadow"
	if grep -F -q -f "$work/shadow" "$work/h-read.json"; then
		echo "the result contains a line of /etc/shadow" >>"$work/h-read.diag"
		rc=1
	fi
fi
tap $rc "hostile-readfile.py: not accepted, no shadow data in the result" "$work/h-read.diag"

grade h-net prime-pool "$pp/hostile-network.py"
check h-net 'r["verdict"] == "security_violation" and "socket" in msg and r["score"] == 0'
tap $? "hostile-network.py: the socket is refused (security_violation)" "$work/h-net.diag"

grade h-fork prime-pool "$pp/hostile-forkbomb.py"
check h-fork 'r["verdict"] in ("runtime_error", "time_limit", "deadlock") and r["score"] == 0 and secs < 90' &&
    box_leftovers >>"$work/h-fork.diag"
tap $? "hostile-forkbomb.py: os.fork loop stopped, nothing left running" "$work/h-fork.diag"

grade h-mp prime-pool "$pp/hostile-mpbomb.py"
check h-mp 'r["verdict"] != "accepted" and r["score"] == 0' &&
    box_leftovers >>"$work/h-mp.diag"
tap $? "hostile-mpbomb.py: 500 processes refused by the pids limit" "$work/h-mp.diag"

for h in ctypes:ctypes import:subprocess patch:time.perf_counter main:getattr; do
	f=${h%%:*}
	word=${h#*:}
	grade "h-$f" prime-pool "$pp/hostile-$f.py"
	check "h-$f" "r['verdict'] == 'compile_error' and r['compile'].get('rejected') is not False and '$word' in log and r['score'] == 0"
	tap $? "hostile-$f.py: refused before running ($word)" "$work/h-$f.diag"
done

# ---- verification: the references graded as submissions -------------
# (the correct fixtures of async-fetch and bank-threads are their
# references, so this also grades those)
for e in async-fetch bank-threads; do
	start=$(date +%s)
	"$grade" verify --exercise="$src/exercises/$e" \
	    --workdir="$work/scratch" >"$work/v-$e.json" 2>"$work/v-$e.err"
	echo $(($(date +%s) - start)) >"$work/v-$e.secs"
	check "v-$e" 'r["status"] == "ready" and r["report"]["verdict"] == "accepted" and r["report"]["score"] == 100 and not r["report"]["race"]["detected"] and r["starter"]["verdict"] not in ("compile_error", "security_violation")'
	tap $? "verify $e: ready, reference accepted, starter runs" "$work/v-$e.diag"
done

tap_done
