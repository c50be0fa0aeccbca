#!/bin/sh
# hostile.sh - the hostile-program suite of the sandbox, in TAP.
#
# Each cases/*.c is compiled inside the sandbox with gcc, run inside it,
# and its JSON verdict checked by sbx-expect against the assertions in the
# case's header:
#   run:            options of the run       args:  the program's arguments
#   expect:         assertions on the run    hook:  shell checks around it
#   compile-run:    options of the compile   compile-expect: the compile is
#                                                   the test (no run)
#   tsan-run, tsan: the same again built with -fsanitize=thread
# Values are words: split at blanks, never globbed or evaluated.
# Needs root, like the sandbox; skipped otherwise.

set -u
set -f		# header words are split, never globbed
src=${COHORTD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${COHORTD_BUILDDIR:-$src}
sbx=$build/cohort-sandbox
expect=$build/tests/sandbox/sbx-expect
listen=$build/tests/sandbox/sbx-listen
cases=$src/tests/sandbox/cases

. "$src/tests/tap.sh"

if [ "$(id -u)" != 0 ]; then
	tap_skip_all "the sandbox needs root"
fi

work=$(mktemp -d /tmp/cohort-hostile.XXXXXX)
bg=""
cleanup() {
	for p in $bg; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM


header() {	# header FILE KEY: the value of " * KEY: ..." in FILE
	sed -n "s/^ \* $2: //p" "$1" | head -n 1
}

# Box cgroups (cohort-box.PID.SLOT) of the supervisors this test ran that
# are still on the host.  A box's processes cannot leave its cgroup, and
# the cgroup cannot be removed while one lives: what is left shows here.
# Boxes of other supervisors on the host (a daemon, another suite) are
# not this test's business.
box_leftovers() {
	for p in $(cat "$work/pids" 2>/dev/null); do
		find /sys/fs/cgroup -maxdepth 6 -name "cohort-box.$p.*" \
		    2>/dev/null
	done
}

# Hooks: hook_pre_NAME runs before the case, hook_NAME after a passing
# verdict; a hook fails by returning non-zero and saying why.

hook_no_box_processes_left() {
	cg=$(box_leftovers)
	[ -z "$cg" ] || { echo "box cgroups left: $cg"; return 1; }
}

hook_daemon_must_be_dead() {
	sleep 0.6
	[ ! -e "$1/escaped" ] || { echo "the daemon outlived its box"; return 1; }
	hook_no_box_processes_left
}

hook_file_bomb_size() {
	size=$(stat -c %s "$1/huge")
	[ "$size" = 1048576 ] || { echo "huge is $size bytes, not 1 MiB"; return 1; }
}

hook_pre_listener_untouched() {
	"$listen" "$work/host.sock" cohort-sandbox-test-listener \
	    "$work/listen.log" &
	bg="$bg $!"
	while [ ! -S "$work/host.sock" ]; do sleep 0.05; done
}

hook_listener_untouched() {
	[ ! -s "$work/listen.log" ] || { echo "the box reached the host's listener"; return 1; }
	# Control: unboxed, the same program does reach both sockets.
	"$1/prog" "$work/host.sock" cohort-sandbox-test-listener >/dev/null
	[ $? -ge 2 ] || { echo "control failed: the listener is not there"; return 1; }
}

hook_trusted_side_refuses_symlinks() {
	for link in input inside escape/etc/shadow ../../../etc/passwd; do
		out=$("$sbx" run --dir="$1" --stdin="$link" -- /bin/cat 2>/dev/null)
		st=$?
		[ "$st" = 2 ] && [ -z "$out" ] ||
		    { echo "--stdin=$link was followed (status $st): $out"; return 1; }
	done
	# Control: a plain file in the box is read.
	"$sbx" run --dir="$1" --stdin=real.txt -- /bin/cat |
	    "$expect" verdict=ok 'stdout~plain input'
}

hook_pre_kill_all_canaries() {
	for uid in 60000 60001; do
		setpriv --reuid=$uid --regid=$uid --clear-groups sleep 30 &
		bg="$bg $!"
		canaries="${canaries:-} $!"
	done
	"$sbx" run --wall-ms=5000 -- /bin/sleep 1 >"$work/neighbour.json" &
	neighbour=$!
	sleep 0.2
}

hook_kill_all_canaries() {
	for p in $canaries; do
		kill -0 "$p" 2>/dev/null || { echo "host canary $p was killed"; return 1; }
		kill "$p"
		wait "$p" 2>/dev/null
	done
	canaries=""
	wait "$neighbour"
	"$expect" verdict=ok <"$work/neighbour.json" ||
	    { echo "the neighbouring box was disturbed"; return 1; }
}

# run_case FILE plain|tsan
run_case() {
	f=$1
	v=$2
	name=$(basename "$f" .c)
	label=$name
	cflags="-O1 -pthread"
	exp=$(header "$f" expect)
	runargs=$(header "$f" run)
	if [ "$v" = tsan ]; then
		label="$name (tsan)"
		cflags="-O1 -g -pthread -fsanitize=thread"
		exp=$(header "$f" tsan)
		[ -n "$(header "$f" tsan-run)" ] && runargs=$(header "$f" tsan-run)
	fi
	d=$work/$name.$v
	mkdir -p "$d"
	cp "$f" "$d/prog.c"

	crun=$(header "$f" compile-run)
	set -- ${crun:---wall-ms=30000 --cpu-ms=30000 --memory-mb=512}
	"$sbx" run --dir="$d" "$@" -- /usr/bin/gcc $cflags -o prog prog.c \
	    >"$d/compile.json" 2>"$d/diag"
	cexp=$(header "$f" compile-expect)
	if [ -n "$cexp" ]; then
		set -- $cexp
		"$expect" "$@" <"$d/compile.json" 2>>"$d/diag" ||
		    { cat "$d/compile.json" >>"$d/diag"; false; }
		tap $? "$label: gcc in the box" "$d/diag"
		return
	fi
	if ! "$expect" verdict=ok <"$d/compile.json" 2>>"$d/diag"; then
		cat "$d/compile.json" >>"$d/diag"
		tap 1 "$label: does not compile" "$d/diag"
		return
	fi

	hook=$(header "$f" hook)
	[ -n "$hook" ] && command -v "hook_pre_$hook" >/dev/null &&
	    "hook_pre_$hook" "$d"
	args=$(header "$f" args | sed "s|HOSTSOCK|$work/host.sock|")
	set -- $runargs -- ./prog $args
	"$sbx" run --dir="$d" "$@" >"$d/run.json" 2>"$d/diag" &
	echo $! >>"$work/pids"
	wait $!
	set -- $exp
	"$expect" "$@" <"$d/run.json" 2>>"$d/diag"
	rc=$?
	if [ $rc = 0 ] && [ -n "$hook" ]; then
		"hook_$hook" "$d" >>"$d/diag" 2>&1
		rc=$?
	fi
	[ $rc = 0 ] || echo "verdict: $(cat "$d/run.json")" >>"$d/diag"
	tap $rc "$label" "$d/diag"
}

"$sbx" check >"$work/check.json" 2>&1
tap $? "cohort-sandbox check: every required mechanism in force" \
    "$work/check.json"

# Only named, degradable mechanisms may be waived: never seccomp.
"$sbx" run --degraded=seccomp -- /bin/true >"$work/degraded" 2>&1
[ $? = 2 ] && ! grep -q verdict "$work/degraded"
tap $? "a degraded mode that would drop seccomp is refused" "$work/degraded"

# A program that cannot be executed is its own fault: exit code 127.
"$sbx" run -- ./missing 2>&1 | "$expect" verdict=runtime_error \
    exit_code=127 'message~cannot execute' >"$work/noexec" 2>&1
tap $? "a missing program is a runtime error, not an internal one" \
    "$work/noexec"

all=$(set +f; ls "$cases"/*.c)
for f in $all; do
	run_case "$f" plain
done
for f in $all; do
	[ -n "$(header "$f" tsan)" ] && run_case "$f" tsan
done

hook_no_box_processes_left >"$work/left" 2>&1
tap $? "nothing of any box is left on the host" "$work/left"
tap_done
