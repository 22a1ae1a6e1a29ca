#!/usr/bin/env bash
# Run the whole test suite with the same bootstrap as scripts/start.sh. Arguments go to pytest.
set -euo pipefail
. "$(dirname "$0")/bootstrap.sh"
if [ -n "${PORTAL_TEST_DATABASE_URL:-}" ]; then :; else
  export PORTAL_TEST_DATABASE_URL="${PORTAL_DATABASE_URL%/*}/portal_test"
fi
say "running tests against the database ${PORTAL_TEST_DATABASE_URL##*/}"
exec python -m pytest "$@"
