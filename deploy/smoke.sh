#!/usr/bin/env bash
# Smoke test of a running registry: the home page and the login page answer 200.
#   deploy/smoke.sh [BASE_URL]     (default http://127.0.0.1:8000)
set -euo pipefail
base=${1:-http://127.0.0.1:8000}
base=${base%/}
failed=0
for path in / /accounts/login/ /lookup/; do
    # curl prints 000 as the status when nothing answered.
    status=$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 10 \
        --location "$base$path" || true)
    if [ "$status" = 200 ]; then
        echo "ok    $base$path"
    else
        echo "FAIL  $base$path -> $status" >&2
        failed=1
    fi
done
exit $failed
