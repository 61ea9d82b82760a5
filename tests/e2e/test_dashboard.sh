#!/usr/bin/env bash
# The dashboard at /_eddy/ in headless Chromium (Debian `chromium`, driven by playwright-core)
# against a running eddy with traffic: stream table, chart and record tail show the right
# numbers, update every second, and the page logs no console errors.
. "$(dirname "$0")/lib.sh"
require_cmd node
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x "$CHROMIUM" ]] || fail "$CHROMIUM is not installed (apt-get install -y chromium)"
[[ -d "$E2E_DIR/node_modules/playwright-core" ]] || fail "playwright-core is missing (cd tests/e2e && npm ci)"
[[ -d "$E2E_DIR/node_modules/@aws-sdk/client-kinesis" ]] || fail "@aws-sdk/client-kinesis is missing (cd tests/e2e && npm ci)"

start_eddy --in-memory
# The pinned SDK supports Node 20; its notice about future releases is noise here.
CHROMIUM="$CHROMIUM" AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true node "$E2E_DIR/test_dashboard.mjs" || fail "test_dashboard.mjs failed (see above)"

# The same numbers through `eddy report`, and its chart as SVG.
"$EDDY_BIN" report --endpoint "$EDDY_URL" --format csv -o "$E2E_TMP/report.csv" --svg "$E2E_TMP/chart.svg" \
  || fail "eddy report failed"
grep -q '^stream,dash-kpl,PROVISIONED,1,' "$E2E_TMP/report.csv" || fail "report.csv has no dash-kpl row: $(cat "$E2E_TMP/report.csv")"
python3 - "$E2E_TMP/chart.svg" <<'PY' || fail "chart.svg is not the expected SVG"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
paths = [p for p in root.iter("{http://www.w3.org/2000/svg}path")]
got = sorted((p.get("data-stream"), p.get("data-series")) for p in paths)
want = sorted((s, k) for s in ("dash-kpl", "dash-orders") for k in ("puts", "user_records"))
assert got == want, got
PY
"$EDDY_BIN" report --endpoint "$EDDY_URL" | grep -q 'dash-orders' || fail "eddy report text has no dash-orders row"
stop_eddy || fail "eddy exited with status $? after SIGTERM"
