#!/usr/bin/env bash
# Run the whole test suite with the same bootstrap as scripts/start.sh. Arguments go to pytest.
set -euo pipefail
. "$(dirname "$0")/bootstrap.sh"
# a database of its own beside the portal's, dropped and made anew by every test session
export PORTAL_TEST_DATABASE_URL="${PORTAL_TEST_DATABASE_URL:-${PORTAL_DATABASE_URL%/*}/portal_test}"
say "running tests against the database ${PORTAL_TEST_DATABASE_URL##*/}"
ruff check --quiet . || { say "ruff found problems (above)"; exit 1; }
exec python -m pytest "$@"
