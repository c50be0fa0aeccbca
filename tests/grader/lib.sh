# lib.sh - what the grading tests share, sourced by grade.sh and python.sh:
# a grading run, an assertion on its result, and the check that no box of
# theirs is left; TAP through tests/tap.sh, a passing line noting how long
# its grading took.  The caller sets $src, $grade (cohort-grade) and $work
# (a scratch directory holding scratch/).

. "$src/tests/tap.sh"
tap_diag_lines=60
tap_note() {	# tap_note DIAGFILE: the seconds of the grading NAME.diag
	secs=$(cat "$work/$(basename "$1" .diag).secs" 2>/dev/null)
	echo "${secs:+${secs}s}"
}

# run_grade NAME EXERCISE-DIR FILE [OPTION]...: the result in $work/NAME.json
run_grade() {
	name=$1
	exdir=$2
	file=$3
	shift 3
	start=$(date +%s)
	"$grade" run --exercise="$exdir" --source="$file" \
	    --workdir="$work/scratch" "$@" >"$work/$name.json" \
	    2>"$work/$name.err" &
	echo $! >>"$work/pids"
	wait $!
	echo "exit status $?" >>"$work/$name.err"
	echo $(($(date +%s) - start)) >"$work/$name.secs"
}

# check NAME PYTHON-EXPR: assert on r (the result), tests, failed, msg (the
# first failure's message), log (the compile log) and secs; says why not
check() {
	python3 - "$work/$1.json" "$(cat "$work/$1.secs" 2>/dev/null)" "$2" \
	    >"$work/$1.diag" 2>&1 <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("no result JSON:", e)
    sys.exit(1)
secs = int(sys.argv[2] or 0)
tests = r.get("tests") or []
failed = [t for t in tests if not t["passed"]]
msg = failed[0]["message"] if failed else ""
log = (r.get("compile") or {}).get("log") or ""
ok = eval(sys.argv[3])
if not ok:
    print("assertion failed:", sys.argv[3])
    # A line a member, the speedup first: what failed fits the log.
    for k in sorted((k for k in r if k != "tests"), key=lambda k: k != "speedup"):
        print(k, "=", json.dumps(r[k])[:800])
    print("first failing test:", failed[0] if failed else None)
sys.exit(0 if ok else 1)
PY
	rc=$?
	cat "$work/$1.err" >>"$work/$1.diag"
	return $rc
}

# Box cgroups (cohort-box.PID.SLOT) of the graders this test ran, still on
# the host: a box's processes live in them, so none may be left.  Other
# graders on the host (another suite, a daemon) are not ours.
box_leftovers() {
	cg=
	for p in $(cat "$work/pids" 2>/dev/null); do
		cg="$cg$(find /sys/fs/cgroup -maxdepth 6 \
		    -name "cohort-box.$p.*" 2>/dev/null)"
	done
	[ -z "$cg" ] || { echo "box cgroups left: $cg"; return 1; }
}
