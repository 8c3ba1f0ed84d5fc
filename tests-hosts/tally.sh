# tests-hosts/tally.sh: the pass/fail bookkeeping of the launcher test scripts, to be sourced
# (tests-hosts/run.sh, tests-prte/run.sh). Uses $work (out and err of the last run, shown
# on a failure) and $filter (a regex of test names to run).
pass=0
fail=0
failed=""
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() {
    fail=$((fail + 1))
    failed="$failed $1"
    echo "FAIL $1: $2"
    sed 's/^/    | /' "$work/out" "$work/err" 2>/dev/null | head -40
}
want() { [[ $filter == . ]] || [[ $1 =~ $filter ]]; }
