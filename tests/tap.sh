# tap.sh - the TAP writer of the shell tests, sourced (the Python tests'
# is harness.TAP).  Output for automake's tap-driver: a line a case, the
# plan at the end.
#
#   tap STATUS NAME [DIAGFILE]
#	"ok N - NAME" when STATUS is 0, else "not ok N - NAME" followed by
#	DIAGFILE's lines (the first $tap_diag_lines of them, when set) as
#	"# " diagnostics.
#   tap_note DIAGFILE	prints a remark for a passing line (" # REMARK"
#			after its name); prints nothing unless a test
#			redefines it
#   tap_skip_all REASON	the whole test skipped: "1..0 # SKIP REASON", exit 0
#   tap_done		the plan, "1..N"

tap_n=0
tap_diag_lines=

tap_note() {
	:
}

tap() {
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		note=$(tap_note "${3:-}")
		echo "ok $tap_n - $2${note:+ # $note}"
	else
		echo "not ok $tap_n - $2"
		if [ -n "${3:-}" ] && [ -f "$3" ]; then
			if [ -n "$tap_diag_lines" ]; then
				head -n "$tap_diag_lines" "$3"
			else
				cat "$3"
			fi | sed 's/^/# /'
		fi
	fi
}

tap_skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

tap_done() {
	echo "1..$tap_n"
}
