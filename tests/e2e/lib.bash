# Helpers for end-to-end scripts: each check prints one PASS or FAIL line.
# RW_BIN and RW_BUILD come from tests/run_tests.sh.
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
# expect_exit NAME CODE CMD...: the command must exit with CODE and print
# exactly one line on stderr.
expect_exit() {
  local name=$1 code=$2; shift 2
  local err; err=$("$@" 2>&1 >/dev/null); local rc=$?
  err=$(printf '%s' "$err" | grep -v ': warning: ')   # warnings may precede the error
  local lines; lines=$(printf '%s' "$err" | grep -c '')
  if [ "$rc" = "$code" ] && [ "$lines" = 1 ]; then pass "$name (exit $rc: $err)";
  else fail "$name: exit $rc (want $code), $lines stderr lines: $err"; fi
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
