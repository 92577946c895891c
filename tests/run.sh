#!/usr/bin/env bash
# Sets up an environment and runs the whole test suite. The README's test command; .ci/run calls it.
#   - creates .venv (if missing) and installs requirements-dev.txt into it (and requirements-train.txt with CI=true);
#   - installs Debian's chromium (real-browser tests) and fonts-wqy-microhei (Chinese labels) when they are
#     missing and we are root;
#   - with CI=true, makes sure the local MariaDB is up so the MySQL tests run (they fail, not skip, then).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
# the training tests (tests/test_train_torch.py) skip without torch locally but must run under CI
if [ "${CI:-}" = "true" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-train.txt
fi

# Debian packages the tests use: chromium (browser tests), fonts-wqy-microhei (Chinese labels drawn on images)
MISSING=""
command -v chromium >/dev/null 2>&1 || MISSING="$MISSING chromium"
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || MISSING="$MISSING fonts-wqy-microhei"
if [ -n "$MISSING" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # shellcheck disable=SC2086
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $MISSING >/dev/null) \
    || echo "note: could not install$MISSING; the browser tests / Chinese-label tests will skip" >&2
fi

if [ "${CI:-}" = "true" ] && [ -x /usr/sbin/mariadbd ] && command -v start-stop-daemon >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do
    .venv/bin/python -c "import pymysql; pymysql.connect(host='127.0.0.1', user='root', connect_timeout=1)" \
      >/dev/null 2>&1 && break
    sleep 1
  done
fi

exec .venv/bin/python -m pytest "$@"
