#!/usr/bin/env bash
# Peak memory of the API process (VmHWM, i.e. peak resident set) while it answers very large
# reads: ListUsers of a 100,000-user tenant, ListUsers?tenantFilter=AllTenants over 200 tenants,
# and the same through ListGraphRequest. The simulated Microsoft 365 runs in its own process,
# so the API's figures are the API's alone; the API runs in production mode against it (only
# URLs and credentials differ from real Microsoft). Every case gets a fresh API process, so
# the peaks do not mix. Prints a Markdown table on standard output; progress goes to stderr.
#
#   benches/api-memory.sh                 # build release binaries, run every case
#   BENCH_SKIP_BUILD=1 benches/api-memory.sh
#
# Knobs (environment):
#   BENCH_USERS=100000        users in the big tenant (simulator A)
#   BENCH_TENANTS=200         customer tenants in each simulator
#   BENCH_SMALL_USERS=50      size of "the big tenant" in simulator B (its other tenants: 20-50)
#   BENCH_SKIP_BUILD=1        use the existing target/release binaries
#   BENCH_ALL_TENANTS_BUDGET  CIPP_ALL_TENANTS_BUDGET_SECONDS for the API (default: the API's, 50)
#   BENCH_SLOW_RATE=5M        curl --limit-rate of the slow-reader case (backpressure: memory must stay flat)
#   BENCH_SLOW_ALL_RATE=3M    the same for the AllTenants slow-reader case (slower than the budget allows)
#   BENCH_KEEP=1              keep the temporary directory (answers, logs) and print its path
#
# Needs: cargo, curl, python3, Linux /proc. Listens on 127.0.0.1 only, on ports the OS chooses.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN_API="$TARGET_DIR/release/cipp-users"
BIN_SIM="$TARGET_DIR/release/cipp-sim"
USERS="${BENCH_USERS:-100000}"
TENANTS="${BENCH_TENANTS:-200}"
SMALL_USERS="${BENCH_SMALL_USERS:-50}"
CALL_TIMEOUT=1200

log() { printf '[api-memory] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in curl python3; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done

# The simulator's API app id (SimConfig::default().api_app_id): callers' tokens are issued for it.
API_APP_ID="${BENCH_API_APP_ID:-$(sed -n 's/^ *api_app_id: "\([0-9a-f-]*\)".*/\1/p' "$ROOT/crates/sim/src/lib.rs" | head -n1)}"
[[ -n "$API_APP_ID" ]] || die "could not read api_app_id from crates/sim/src/lib.rs; set BENCH_API_APP_ID"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cipp-api-memory.XXXXXX")"
SIM_PID=""
API_PID=""
CURL_PID=""

stop() { # pid: stop a process this script started, and reap it
    local pid="$1"
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    stop "$CURL_PID"
    stop "$API_PID"
    stop "$SIM_PID"
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    log "building release binaries (cipp-users, cipp-sim)"
    (cd "$ROOT" && cargo build --release -p cipp-users --bin cipp-users -p cipp-sim --bin cipp-sim) >&2
fi
[[ -x "$BIN_API" && -x "$BIN_SIM" ]] || die "missing $BIN_API or $BIN_SIM"

# kB field of /proc/<pid>/status, in MB with one decimal
proc_mb() { # pid field
    awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

wait_for_line() { # file pid what: wait until file has a first line (process must stay alive)
    local file="$1" pid="$2" what="$3"
    for _ in $(seq 6000); do
        [[ -s "$file" ]] && head -n1 "$file" | grep -q . && return 0
        kill -0 "$pid" 2>/dev/null || die "$what exited early; its stderr:$(printf '\n'; tail -n 20 "${file%.out}.err")"
        sleep 0.1
    done
    die "$what did not start within 600 s"
}

# ---- simulator -------------------------------------------------------------------------------
SIM_DIR=""; BASE_URL=""; CA_PEM=""; PARTNER_TENANT=""; PARTNER_CLIENT=""; PARTNER_SECRET=""
BIG_DOMAIN=""; SMALL_DOMAIN=""; EXPECTED_ALL=""; EXPECTED_BIG=""; EXPECTED_SMALL=""; SIM_TENANTS=""

start_sim() { # name tenants users
    local name="$1" tenants="$2" users="$3"
    SIM_DIR="$WORK/sim-$name"
    mkdir -p "$SIM_DIR/certs"
    log "starting simulator $name: --tenants $tenants --users $users"
    local t0=$SECONDS
    "$BIN_SIM" --bind 127.0.0.1:0 --tenants "$tenants" --users "$users" --cert-dir "$SIM_DIR/certs" \
        >"$SIM_DIR/sim.out" 2>"$SIM_DIR/sim.err" &
    SIM_PID=$!
    wait_for_line "$SIM_DIR/sim.out" "$SIM_PID" "cipp-sim"
    log "simulator $name ready in $((SECONDS - t0)) s (pid $SIM_PID)"
    # shellcheck disable=SC2046
    eval "$(head -n1 "$SIM_DIR/sim.out" | python3 -c '
import json, shlex, sys
s = json.loads(sys.stdin.readline())
t = s["tenants"]
out = {
    "BASE_URL": s["base_url"], "CA_PEM": s["ca_pem_path"],
    "PARTNER_TENANT": s["partner_tenant_id"], "PARTNER_CLIENT": s["partner_client_id"],
    "PARTNER_SECRET": s["partner_client_secret"],
    "BIG_DOMAIN": t[0]["defaultDomainName"], "EXPECTED_BIG": t[0]["userCount"],
    "SMALL_DOMAIN": t[1]["defaultDomainName"], "EXPECTED_SMALL": t[1]["userCount"],
    "EXPECTED_ALL": sum(x["userCount"] for x in t), "SIM_TENANTS": len(t),
}
for k, v in out.items():
    print(f"{k}={shlex.quote(str(v))}")
')"
}

# ---- API -------------------------------------------------------------------------------------
API_URL=""; API_DIR=""

start_api() { # case-name
    API_DIR="$WORK/api-$1"
    mkdir -p "$API_DIR/data"
    local refresh
    refresh="$(curl -sS --fail --cacert "$CA_PEM" "$BASE_URL/_sim/partner-refresh-token" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])')"
    local clients
    clients="[{\"client_id\":\"$PARTNER_CLIENT\",\"name\":\"bench\",\"role\":\"readonly\"}]"
    local extra=()
    [[ -n "${BENCH_ALL_TENANTS_BUDGET:-}" ]] && extra+=("CIPP_ALL_TENANTS_BUDGET_SECONDS=$BENCH_ALL_TENANTS_BUDGET")
    env CIPP_MODE=production CIPP_BIND=127.0.0.1:0 CIPP_METRICS_BIND=127.0.0.1:0 CIPP_LOG="${CIPP_LOG:-warn}" \
        CIPP_PARTNER_TENANT_ID="$PARTNER_TENANT" CIPP_PARTNER_CLIENT_ID="$PARTNER_CLIENT" \
        CIPP_PARTNER_CLIENT_SECRET="$PARTNER_SECRET" CIPP_PARTNER_REFRESH_TOKEN="$refresh" \
        CIPP_AUTHORITY_HOST="$BASE_URL" CIPP_GRAPH_BASE_URL="$BASE_URL" CIPP_EXCHANGE_BASE_URL="$BASE_URL" \
        CIPP_EXTRA_CA_FILE="$CA_PEM" CIPP_API_APP_ID="$API_APP_ID" CIPP_API_CLIENTS="$clients" \
        CIPP_DATA_DIR="$API_DIR/data" "${extra[@]}" \
        "$BIN_API" >"$API_DIR/api.out" 2>"$API_DIR/api.err" &
    API_PID=$!
    wait_for_line "$API_DIR/api.out" "$API_PID" "cipp-users"
    local port
    port="$(sed -n 's#^listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$API_DIR/api.out" | head -n1)"
    [[ -n "$port" ]] || die "cipp-users did not say where it listens: $(cat "$API_DIR/api.out")"
    API_URL="http://127.0.0.1:$port"
    curl -sS --fail --retry 20 --retry-connrefused --retry-delay 0 "$API_URL/health/live" >/dev/null
}

caller_token() {
    curl -sS --fail --cacert "$CA_PEM" "$BASE_URL/$PARTNER_TENANT/oauth2/v2.0/token" \
        -d grant_type=client_credentials \
        --data-urlencode "client_id=$PARTNER_CLIENT" \
        --data-urlencode "client_secret=$PARTNER_SECRET" \
        --data-urlencode "scope=api://$API_APP_ID/.default" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# ---- one case --------------------------------------------------------------------------------
ROWS_MD=()

# count rows of a saved answer: "<rows> <rows whose CippStatus is not Good> <distinct Tenant values>"
# (ListGraphRequest marks every row CippStatus "Good"; a failed or unfinished tenant is one row
# whose CippStatus says why)
count_rows() {
    python3 - "$1" <<'PY'
import json, sys
with open(sys.argv[1], "rb") as f:
    body = json.load(f)
rows = body["Results"] if isinstance(body, dict) and "Results" in body else body
if not isinstance(rows, list):
    print("? ? ?"); sys.exit()
status = sum(1 for r in rows if isinstance(r, dict) and r.get("CippStatus", "Good") != "Good")
tenants = len({r.get("Tenant") for r in rows if isinstance(r, dict) and r.get("Tenant")})
print(len(rows), status, tenants)
PY
}

run_case() { # name description expected-rows path-and-query [curl --limit-rate value]
    local name="$1" desc="$2" expected="$3" path="$4" rate="${5:-}"
    local slow=()
    [[ -n "$rate" ]] && slow=(--limit-rate "$rate")
    start_api "$name"
    local token tenants_seen
    token="$(caller_token)"
    # The header goes through a file so the token stays off command lines (ps).
    local auth="$API_DIR/auth.header"
    (umask 077 && printf 'Authorization: Bearer %s\n' "$token" >"$auth")
    # Warm-up: tenant list and the partner's tokens, so "before" is a served, ready process.
    tenants_seen="$(curl -sS --fail -H @"$auth" "$API_URL/api/ListTenants" |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
    local hwm0 rss0
    hwm0="$(proc_mb "$API_PID" VmHWM)"; rss0="$(proc_mb "$API_PID" VmRSS)"
    log "$name: GET $path (API pid $API_PID, $tenants_seen tenants listed, VmHWM $hwm0 MB)"
    local answer="$API_DIR/answer.json" metrics
    # In the background and waited for, so that an interrupt stops everything at once.
    curl -sS -g --max-time "$CALL_TIMEOUT" -o "$answer" "${slow[@]}" \
        -w '%{http_code} %{time_total} %{size_download}' \
        -H @"$auth" "$API_URL$path" >"$API_DIR/curl.metrics" &
    CURL_PID=$!
    wait "$CURL_PID" || die "$name: curl failed: $(cat "$API_DIR/curl.metrics")"
    CURL_PID=""
    metrics="$(cat "$API_DIR/curl.metrics")"
    local hwm1 rss1 sim_rss sim_hwm
    hwm1="$(proc_mb "$API_PID" VmHWM)"; rss1="$(proc_mb "$API_PID" VmRSS)"
    sim_rss="$(proc_mb "$SIM_PID" VmRSS)"; sim_hwm="$(proc_mb "$SIM_PID" VmHWM)"
    local code time size
    read -r code time size <<<"$metrics"
    local rows status distinct
    if [[ "$code" == 200 ]]; then
        read -r rows status distinct <<<"$(count_rows "$answer")"
    else
        rows="-"; status="-"; distinct="-"
        log "$name: HTTP $code: $(head -c 300 "$answer")"
    fi
    local growth
    growth="$(awk -v a="$hwm1" -v b="$hwm0" 'BEGIN { printf "%+.1f", a - b }')"
    local body_mb
    body_mb="$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')"
    log "$name: HTTP $code, $rows rows ($status failed-tenant rows, $distinct tenants), ${body_mb} MB in ${time} s, API VmHWM $hwm0 -> $hwm1 MB"
    ROWS_MD+=("| $desc | $code | $rows / $expected | $status | $distinct | $body_mb | $(printf '%.1f' "$time") | $hwm0 | **$hwm1** | $growth | $rss1 | $sim_rss ($sim_hwm) |")
    stop "$API_PID"; API_PID=""
}

# ---- the cases -------------------------------------------------------------------------------
SELECT='$select=id,displayName,userPrincipalName'

# Simulator B: TENANTS customer tenants of 20-50 users each (the first has SMALL_USERS).
start_sim B "$TENANTS" "$SMALL_USERS"
SIM_B_SUMMARY="simulator B: $SIM_TENANTS active customer tenants, $EXPECTED_ALL users in all"
run_case b-listusers-all "ListUsers AllTenants, $SIM_TENANTS small tenants (B)" "$EXPECTED_ALL" \
    "/api/ListUsers?tenantFilter=AllTenants"
run_case c-graph-all "ListGraphRequest users AllTenants, $SIM_TENANTS small tenants (B)" "$EXPECTED_ALL" \
    "/api/ListGraphRequest?tenantFilter=AllTenants&Endpoint=users&$SELECT"
stop "$SIM_PID"; SIM_PID=""

# Simulator A: TENANTS customer tenants, the first with USERS users, the others 20-50.
start_sim A "$TENANTS" "$USERS"
SIM_A_SUMMARY="simulator A: $SIM_TENANTS active customer tenants, $BIG_DOMAIN with $EXPECTED_BIG users, $EXPECTED_ALL users in all"
run_case a0-listusers-small "ListUsers one tenant, $EXPECTED_SMALL users (A, baseline)" "$EXPECTED_SMALL" \
    "/api/ListUsers?tenantFilter=$SMALL_DOMAIN"
run_case a-listusers-big "ListUsers one tenant, $EXPECTED_BIG users (A)" "$EXPECTED_BIG" \
    "/api/ListUsers?tenantFilter=$BIG_DOMAIN"
run_case a-listusers-big-slow "ListUsers one tenant, $EXPECTED_BIG users, caller reads at ${BENCH_SLOW_RATE:-5M}B/s (A)" "$EXPECTED_BIG" \
    "/api/ListUsers?tenantFilter=$BIG_DOMAIN" "${BENCH_SLOW_RATE:-5M}"
run_case c-graph-big "ListGraphRequest users, one tenant, $EXPECTED_BIG users (A)" "$EXPECTED_BIG" \
    "/api/ListGraphRequest?tenantFilter=$BIG_DOMAIN&Endpoint=users&$SELECT"
run_case b-listusers-all-big "ListUsers AllTenants, $SIM_TENANTS tenants incl. the $EXPECTED_BIG-user one (A)" "$EXPECTED_ALL" \
    "/api/ListUsers?tenantFilter=AllTenants"
run_case b-listusers-all-big-slow "ListUsers AllTenants, $SIM_TENANTS tenants incl. the $EXPECTED_BIG-user one, caller reads at ${BENCH_SLOW_ALL_RATE:-3M}B/s (A)" "$EXPECTED_ALL" \
    "/api/ListUsers?tenantFilter=AllTenants" "${BENCH_SLOW_ALL_RATE:-3M}"
run_case c-graph-all-big "ListGraphRequest users AllTenants, $SIM_TENANTS tenants incl. the $EXPECTED_BIG-user one (A)" "$EXPECTED_ALL" \
    "/api/ListGraphRequest?tenantFilter=AllTenants&Endpoint=users&$SELECT"
stop "$SIM_PID"; SIM_PID=""

# ---- report ----------------------------------------------------------------------------------
cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$ROOT" status --porcelain -- crates src Cargo.toml Cargo.lock 2>/dev/null | grep -q . && echo ' (working tree has changes)' || true)"
echo "### API peak memory, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
built="$(date -u -r "$BIN_API" '+%Y-%m-%d %H:%M UTC')"
echo "Machine: $(nproc) cores${cpu:+ ($cpu)}, $(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Binaries built $built; HEAD now $commit$dirty."
echo "$SIM_B_SUMMARY; $SIM_A_SUMMARY."
echo "AllTenants budget: ${BENCH_ALL_TENANTS_BUDGET:-API default (50)} s. Each row is a fresh API process; MB = MiB."
echo
echo "| case | HTTP | rows / expected | failed-tenant rows | tenants in answer | body MB | time s | API VmHWM before MB | API VmHWM after MB | peak growth MB | API VmRSS after MB | simulator VmRSS (VmHWM) MB |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${ROWS_MD[@]}"
