#!/usr/bin/env python3
"""The performance suite: P1-P8 of the performance issue and A1 (the audit flood of the hardening
issue), measured side by side in one run.

    benches/suite.py                 # release build, full sizes, writes benches/RESULTS.md
    benches/suite.py --quick         # debug build, small sizes, short runs; writes
                                     # target/bench-quick/RESULTS.md (CI runs this so the suite
                                     # never rots; CI checks that it runs, not its timings)

Everything runs on 127.0.0.1 on ports the OS chooses. The simulated Microsoft 365 runs as its
own process (`cipp-sim`), so every API figure is the API's alone; the API runs in production
mode against it (only URLs and credentials differ from real Microsoft), as benches/api-memory.sh
does. Latency is the simulator's fault injection (`POST /_sim/faults` with `latency_ms`).
The load generator is Debian's `wrk` (`apt-get install wrk`): nothing to compile.

Needs: cargo, python3 (standard library only), wrk, Linux /proc.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
# The read ListUsers makes for one tenant (crates/users/src/operations/list_users.rs); the
# direct figure in P1 and P8 is this read sent to the simulator, the other goes through the API.
LIST_USERS_GRAPH_PATH = (
    "/beta/users/?$top=999&$count=true"
    "&$expand=manager($select=id,userPrincipalName,displayName)"
)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---- processes ---------------------------------------------------------------------------------


def proc_kb(pid: int, field_name: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise BenchError(f"{field_name} not in /proc/{pid}/status")


def mb(kb: int) -> float:
    return kb / 1024.0


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def read_first_line(process: subprocess.Popen, what: str, pattern: str, timeout: float) -> str:
    """Reads the process's stdout until a line matches `pattern`; returns that line."""
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                raise BenchError(f"{what} exited with {process.returncode} before it was ready")
            continue
        if re.search(pattern, line):
            return line
    raise BenchError(f"{what} did not start within {timeout} s")


# ---- HTTP --------------------------------------------------------------------------------------


def http(method: str, url: str, *, context: ssl.SSLContext | None = None, body=None,
         headers: dict | None = None, form: dict | None = None, timeout: float = 600) -> tuple[int, bytes]:
    data = None
    all_headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(request, context=context, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def json_of(status_body: tuple[int, bytes], what: str):
    status, body = status_body
    if status >= 300:
        raise BenchError(f"{what}: HTTP {status}: {body[:300]!r}")
    return json.loads(body)


# ---- the simulator -----------------------------------------------------------------------------


class Sim:
    def __init__(self, binary: str, work: str, tenants: int, users: int):
        self.dir = tempfile.mkdtemp(prefix="sim-", dir=work)
        log(f"starting cipp-sim --tenants {tenants} --users {users}")
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1:0", "--tenants", str(tenants), "--users", str(users),
             "--cert-dir", os.path.join(self.dir, "certs")],
            stdout=subprocess.PIPE, stderr=open(os.path.join(self.dir, "sim.err"), "w"),
            text=True)
        first = json.loads(read_first_line(self.process, "cipp-sim", r"^\{", 900))
        self.base = first["base_url"]
        self.ca = first["ca_pem_path"]
        self.partner_tenant = first["partner_tenant_id"]
        self.partner_client = first["partner_client_id"]
        self.partner_secret = first["partner_client_secret"]
        self.tenants = first["tenants"]
        self.tls = ssl.create_default_context(cafile=self.ca)

    def get(self, path: str):
        return json_of(http("GET", self.base + path, context=self.tls), path)

    def post(self, path: str, body):
        return json_of(http("POST", self.base + path, context=self.tls, body=body), path)

    def delete(self, path: str) -> None:
        http("DELETE", self.base + path, context=self.tls)

    def add_tenants(self, count: int, users: int) -> None:
        self.tenants.extend(self.post("/_sim/tenants", {"count": count, "users": users})["tenants"])

    def latency(self, ms: int, prefixes=("/beta/", "/v1.0/")) -> None:
        """Every Graph call waits `ms` before it is answered (token routes stay fast: tokens
        are warm in every case that uses latency)."""
        self.delete("/_sim/faults")
        for prefix in prefixes:
            if ms:
                self.post("/_sim/faults", {"path": prefix, "latency_ms": ms})

    def stats(self) -> list[dict]:
        return self.get("/_sim/stats")["requests"]

    def reset_stats(self) -> None:
        self.delete("/_sim/stats")

    def token(self, tenant_id: str, form: dict) -> str:
        answer = json_of(http("POST", f"{self.base}/{tenant_id}/oauth2/v2.0/token", context=self.tls,
                              form=form), "token")
        return answer["access_token"]

    def caller_token(self, api_app_id: str) -> str:
        return self.token(self.partner_tenant, {
            "grant_type": "client_credentials", "client_id": self.partner_client,
            "client_secret": self.partner_secret, "scope": f"api://{api_app_id}/.default"})

    def graph_token(self, tenant_id: str) -> str:
        """A delegated GDAP token for a customer tenant, as the API gets its own."""
        refresh = self.get("/_sim/partner-refresh-token")["refresh_token"]
        return self.token(tenant_id, {
            "grant_type": "refresh_token", "client_id": self.partner_client,
            "client_secret": self.partner_secret, "refresh_token": refresh, "scope": GRAPH_SCOPE})

    def rss_mb(self) -> float:
        return mb(proc_kb(self.process.pid, "VmRSS"))

    def close(self) -> None:
        stop(self.process)


# ---- the API -----------------------------------------------------------------------------------


class Api:
    def __init__(self, binary: str, sim: Sim, data_dir: str, api_app_id: str, extra_env: dict | None = None):
        os.makedirs(data_dir, exist_ok=True)
        refresh = sim.get("/_sim/partner-refresh-token")["refresh_token"]
        clients = [{"client_id": sim.partner_client, "name": "bench", "role": "readonly"}]
        env = dict(os.environ)
        env.update({
            "CIPP_MODE": "production", "CIPP_BIND": "127.0.0.1:0",
            "CIPP_METRICS_BIND": "127.0.0.1:0", "CIPP_LOG": os.environ.get("CIPP_LOG", "warn"),
            "CIPP_PARTNER_TENANT_ID": sim.partner_tenant, "CIPP_PARTNER_CLIENT_ID": sim.partner_client,
            "CIPP_PARTNER_CLIENT_SECRET": sim.partner_secret, "CIPP_PARTNER_REFRESH_TOKEN": refresh,
            "CIPP_AUTHORITY_HOST": sim.base, "CIPP_GRAPH_BASE_URL": sim.base,
            "CIPP_EXCHANGE_BASE_URL": sim.base, "CIPP_EXTRA_CA_FILE": sim.ca,
            "CIPP_API_APP_ID": api_app_id, "CIPP_API_CLIENTS": json.dumps(clients),
            "CIPP_DATA_DIR": data_dir,
        })
        env.update(extra_env or {})
        self.err_path = os.path.join(data_dir, "api.err")
        self.started = time.perf_counter()
        self.process = subprocess.Popen([binary], stdout=subprocess.PIPE,
                                        stderr=open(self.err_path, "a"), env=env, text=True)
        line = read_first_line(self.process, "cipp-users", r"https?://127\.0\.0\.1:\d+", 120)
        self.ready = time.perf_counter()
        port = re.search(r"https?://127\.0\.0\.1:(\d+)", line).group(1)
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path_and_query: str, token: str) -> tuple[int, bytes]:
        return http("GET", self.base + path_and_query, headers={"Authorization": f"Bearer {token}"})

    def hwm_mb(self) -> float:
        return mb(proc_kb(self.process.pid, "VmHWM"))

    def rss_mb(self) -> float:
        return mb(proc_kb(self.process.pid, "VmRSS"))

    def close(self) -> None:
        stop(self.process)


# ---- wrk ---------------------------------------------------------------------------------------


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx answers plus socket errors


def wrk_ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, connections: int, seconds: float, headers: dict, script: str | None = None) -> Load:
    command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s",
               "--latency", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    command.append(url)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if not (p50 and p99 and rate and total):
        raise BenchError(f"could not read wrk's output:\n{output}")
    bad = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        bad += int(non_2xx.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if errors:
        bad += sum(int(x) for x in errors.groups())
    return Load(float(rate.group(1)), wrk_ms(p50.group(1)), wrk_ms(p99.group(1)), int(total.group(1)), bad)


# ---- the cases ---------------------------------------------------------------------------------


@dataclass
class Figure:
    key: str
    what: str
    figure: str
    target: str
    met: bool | None  # None: not measurable here (the figure column says why)
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    quick: bool
    api_bin: str
    sim_bin: str
    fill_bin: str
    work: str
    api_app_id: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def data_dir(self, name: str) -> str:
        return os.path.join(self.work, f"api-{name}-{len(os.listdir(self.work))}")


def timed_read(api: Api, path: str, token: str) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    status, body = api.get(path, token)
    return time.perf_counter() - started, status, body


def rows_of(body: bytes) -> list:
    rows = json.loads(body)
    return rows["Results"] if isinstance(rows, dict) and "Results" in rows else rows


def p1_added_latency(ctx: Context) -> None:
    sim = Sim(ctx.sim_bin, ctx.work, 3, 100)
    api = None
    try:
        api = Api(ctx.api_bin, sim, ctx.data_dir("p1"), ctx.api_app_id)
        tenant = sim.tenants[0]
        caller = sim.caller_token(ctx.api_app_id)
        user = rows_of(api.get(f"/api/ListUsers?tenantFilter={tenant['defaultDomainName']}", caller)[1])[0]
        # One small Graph read: the API sends exactly this read for this ListGraphRequest (checked
        # below from the simulator's request counts), so the difference is the API's own time.
        endpoint = f"users/{user['id']}"
        select = "id,displayName,userPrincipalName"
        direct_url = f"{sim.base}/v1.0/{endpoint}?$select={select}"
        api_url = (f"{api.base}/api/ListGraphRequest?tenantFilter={tenant['defaultDomainName']}"
                   f"&Endpoint={endpoint}&Version=v1.0&$select={select}")
        graph_token = sim.graph_token(tenant["customerId"])
        seconds = 2 if ctx.quick else 10
        rows = []
        summary = []
        met = True
        for connections in (1, 8, 64):
            # warm both paths (connections, tokens), then measure them one after the other
            wrk(direct_url, connections, 1, {"Authorization": f"Bearer {graph_token}"})
            wrk(api_url, connections, 1, {"Authorization": f"Bearer {caller}"})
            direct = wrk(direct_url, connections, seconds,
                         {"Authorization": f"Bearer {graph_token}", "ConsistencyLevel": "eventual"})
            sim.reset_stats()
            through = wrk(api_url, connections, seconds, {"Authorization": f"Bearer {caller}"})
            graph_calls = sum(r["count"] for r in sim.stats() if r["path"].endswith(endpoint))
            if direct.bad or through.bad:
                raise BenchError(f"P1: failed answers (direct {direct.bad}, API {through.bad})")
            if graph_calls != through.requests:
                # wrk counts only completed requests; in-flight ones at the end also reached Graph
                if not (through.requests <= graph_calls <= through.requests + connections):
                    raise BenchError(f"P1: {through.requests} API answers made {graph_calls} Graph reads")
            added50 = through.p50_ms - direct.p50_ms
            added99 = through.p99_ms - direct.p99_ms
            ok = added50 <= 0.3 and added99 <= 1.0
            met = met and ok
            summary.append(f"{connections} conn. {added50:+.2f} / {added99:+.2f} ms")
            rows.append(f"| {connections} | {direct.p50_ms:.3f} | {through.p50_ms:.3f} | **{added50:+.3f}** "
                        f"| {direct.p99_ms:.3f} | {through.p99_ms:.3f} | **{added99:+.3f}** "
                        f"| {direct.requests_per_second:.0f} | {through.requests_per_second:.0f} | {'met' if ok else 'not met'} |")
        ctx.tables.append(
            "### P1: added latency\n\n"
            f"`GET /v1.0/{{user}}?$select={select}` directly at the simulator against "
            f"`ListGraphRequest?Endpoint=users/{{id}}&Version=v1.0&$select=...` through the API "
            f"(which makes that one read per call, checked from the simulator's counts), {seconds} s each "
            "with `wrk`, one after the other. Times in ms.\n\n"
            "| connections | direct p50 | API p50 | added p50 | direct p99 | API p99 | added p99 | direct req/s | API req/s | target |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n")
        ctx.figures.append(Figure("P1", "added latency (p50 / p99) at 1, 8 and 64 connections",
                                  "; ".join(summary) + " (the P1 table below)",
                                  "≤ 0.3 ms p50, ≤ 1 ms p99 added", met))
    finally:
        if api:
            api.close()
        sim.close()


def run_bec_check(api: Api, caller: str, tenant: str, user_id: str, upn: str) -> tuple[float, dict]:
    """Starts a BEC check as the case workflow does (POST), polls it every 10 ms until it has a
    report, and returns the wall time from the POST to the report and the report."""
    started = time.perf_counter()
    answer = json_of(http("POST", api.base + "/api/ExecBECCheck", headers={"Authorization": f"Bearer {caller}"},
                          body={"tenantFilter": tenant, "userid": user_id, "userName": upn}), "ExecBECCheck")
    case = answer["CaseId"]
    while True:
        report = json_of(api.get(f"/api/ExecBECCheck?GUID={case}&tenantFilter={tenant}", caller), "poll")
        if report.get("Waiting") is not True:
            break
        if time.perf_counter() - started > 120:
            raise BenchError(f"P2: case {case} never finished")
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    if report.get("Run", {}).get("Status") != "Completed":
        raise BenchError(f"P2: case {case} did not complete: {str(report)[:300]}")
    return seconds, report


def p2_bec(ctx: Context) -> None:
    latency = 100
    sim = Sim(ctx.sim_bin, ctx.work, 2, 100)
    api = None
    try:
        api = Api(ctx.api_bin, sim, ctx.data_dir("p2"), ctx.api_app_id)
        caller = sim.caller_token(ctx.api_app_id)
        tenant = sim.tenants[0]["defaultDomainName"]
        incident = sim.get(f"/_sim/incident/{tenant}")
        user_id, upn = incident["userId"], incident["userPrincipalName"]
        run_bec_check(api, caller, tenant, user_id, upn)  # tokens (Graph and Exchange) warm
        sim.latency(latency, ("/beta/", "/v1.0/", "/adminapi/"))
        runs = [run_bec_check(api, caller, tenant, user_id, upn) for _ in range(1 if ctx.quick else 3)]
        times = sorted(seconds for seconds, _ in runs)
        median = statistics.median(times)
        report = runs[0][1]
        collectors = report["Completeness"]
        incomplete = [name for name, state in collectors.items() if not state.get("Complete")]
        if incomplete:
            raise BenchError(f"P2: collectors did not complete: {incomplete}")
        summed = sum(state["DurationMs"] for state in collectors.values()) / 1000.0
        # The longest chain of calls that must follow one another: the user read that starts
        # the run, then the audit log's configuration before its searches (also: the consents
        # before the application each names; one page of users, sign-ins and trace each).
        chain = 3
        critical = chain * latency / 1000.0
        ratio = median / critical
        ctx.figures.append(Figure(
            "P2", f"BEC check at {latency} ms per call against its critical path ({len(collectors)} collectors)",
            f"{median:.2f} s median of {len(times)} (best {times[0]:.2f} s) = {ratio:.2f} × the critical path "
            f"({chain} calls one after another = {critical:.2f} s); collecting took "
            f"{report['CollectionMs'] / 1000.0:.2f} s of it, against {summed:.2f} s for the collectors one after another",
            "≤ 1.2 × critical path", ratio <= 1.2,
            ["POST ExecBECCheck to the report read back by polling every 10 ms; the planted incident's user",
             "critical path: user read → audit-log configuration → audit-log search"]))
    finally:
        if api:
            api.close()
        sim.close()


def p3_all_tenants(ctx: Context) -> None:
    tenants = 20 if ctx.quick else 200
    sim = Sim(ctx.sim_bin, ctx.work, 3, 100)
    api = None
    try:
        sim.add_tenants(tenants - len(sim.tenants), 100)
        expected = sum(t["userCount"] for t in sim.tenants)
        api = Api(ctx.api_bin, sim, ctx.data_dir("p3"), ctx.api_app_id)
        caller = sim.caller_token(ctx.api_app_id)
        path = "/api/ListUsers?tenantFilter=AllTenants"
        _, status, _ = timed_read(api, path, caller)  # tokens and tenant list warm
        sim.latency(50)
        times = []
        for _ in range(3):
            seconds, status, body = timed_read(api, path, caller)
            rows = rows_of(body)
            users = [r for r in rows if isinstance(r, dict) and "userPrincipalName" in r]
            if status != 200 or len(users) != expected:
                raise BenchError(f"P3: HTTP {status}, {len(users)} of {expected} users")
            times.append(seconds)
        best, median = min(times), statistics.median(times)
        ctx.figures.append(Figure(
            "P3", f"ListUsers AllTenants, {len(sim.tenants)} tenants, {expected:,} users, 50 ms per Graph call",
            f"{median:.2f} s median of 3 (best {best:.2f} s)", "≤ 1.5 s", median <= 1.5,
            [f"tenants read {api_concurrency()} at a time (CIPP_ALL_TENANTS_CONCURRENCY)"]))
    finally:
        if api:
            api.close()
        sim.close()


def api_concurrency() -> str:
    return os.environ.get("CIPP_ALL_TENANTS_CONCURRENCY", "16")


def p4_big_tenant(ctx: Context) -> None:
    users = 5000 if ctx.quick else 100_000
    latency = 20
    sim = Sim(ctx.sim_bin, ctx.work, 3, users)
    api = None
    try:
        api = Api(ctx.api_bin, sim, ctx.data_dir("p4"), ctx.api_app_id)
        caller = sim.caller_token(ctx.api_app_id)
        small = sim.tenants[1]["defaultDomainName"]
        big = sim.tenants[0]["defaultDomainName"]
        api.get(f"/api/ListUsers?tenantFilter={small}", caller)  # tokens warm, pool warm
        sim.latency(latency)
        before = api.hwm_mb()
        started = time.perf_counter()
        rows = 0
        request = urllib.request.Request(f"{api.base}/api/ListUsers?tenantFilter={big}",
                                         headers={"Authorization": f"Bearer {caller}"})
        first_byte = None
        with urllib.request.urlopen(request, timeout=1200) as answer:
            size = 0
            while chunk := answer.read(1 << 16):
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                rows += chunk.count(b'"userPrincipalName"')
        seconds = time.perf_counter() - started
        after = api.hwm_mb()
        pages = math.ceil(users / 999)
        floor = pages * latency / 1000.0
        if rows < users:
            raise BenchError(f"P4: {rows} of {users} users")
        ratio = seconds / floor
        direct, direct_pages_read = direct_pages(sim, sim.tenants[0]["customerId"])
        if direct_pages_read != pages:
            raise BenchError(f"P4: the direct read took {direct_pages_read} pages, not {pages}")
        ctx.figures.append(Figure(
            "P4", f"ListUsers of a {users:,}-user tenant at {latency} ms per call ({pages} pages)",
            f"{seconds:.2f} s = {ratio:.2f} × pages × latency ({floor:.2f} s); first byte {first_byte:.2f} s; "
            f"{size / 1e6:.0f} MB. The same {pages} pages read one after another straight from the "
            f"simulator: {direct:.2f} s, so the API takes {seconds / direct:.2f} × that",
            "≤ 1.2 ×", ratio <= 1.2,
            ["the simulator's own time per page counts in both"]))
        growth = after - before
        ctx.figures.append(Figure(
            "P4-mem", f"extra peak RSS for that answer",
            f"+{growth:.1f} MB (VmHWM {before:.1f} → {after:.1f} MB)", "≤ 64 MB", growth <= 64))
    finally:
        if api:
            api.close()
        sim.close()


def direct_pages(sim: Sim, tenant_id: str) -> tuple[float, int]:
    """Seconds to read every page of ListUsers' Graph read straight from the simulator, one
    after another as the API must (each page names the next): the floor the simulator sets."""
    token = sim.graph_token(tenant_id)
    url = sim.base + LIST_USERS_GRAPH_PATH
    next_link = re.compile(rb'"@odata\.nextLink":"([^"]+)"')
    started = time.perf_counter()
    pages = 0
    while url:
        pages += 1
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}",
                                                       "ConsistencyLevel": "eventual"})
        with urllib.request.urlopen(request, context=sim.tls, timeout=600) as answer:
            body = answer.read()
        found = next_link.search(body)
        url = json.loads(b'"' + found.group(1) + b'"') if found else None
    return time.perf_counter() - started, pages


def p5_token_single_flight(ctx: Context) -> None:
    tenants = 50
    connections = 200 if ctx.quick else 1000
    sim = Sim(ctx.sim_bin, ctx.work, 3, 30)
    api = None
    try:
        sim.add_tenants(tenants - len(sim.tenants), 25)
        api = Api(ctx.api_bin, sim, ctx.data_dir("p5"), ctx.api_app_id)
        caller = sim.caller_token(ctx.api_app_id)
        # the caller's token is validated once (JWKS) before the burst; the burst is the first
        # Graph call of every tenant
        api.get("/health/live", caller)
        sim.reset_stats()
        domains = [t["defaultDomainName"] for t in sim.tenants]
        script = os.path.join(ctx.work, "p5.lua")
        with open(script, "w", encoding="ascii") as lua:
            lua.write("local domains = {" + ",".join(json.dumps(d) for d in domains) + "}\n"
                      "local i = 0\n"
                      "request = function()\n"
                      "  i = i + 1\n"
                      "  return wrk.format('GET', '/api/ListUsers?tenantFilter=' .. domains[(i % #domains) + 1])\n"
                      "end\n")
        load = wrk(f"{api.base}/api/ListUsers", connections, 2 if ctx.quick else 4,
                   {"Authorization": f"Bearer {caller}"}, script)
        token_rows = [r for r in sim.stats() if r["path"].endswith("/oauth2/v2.0/token")]
        per_tenant: dict[str, int] = {}
        for row in token_rows:
            per_tenant[row.get("tenant") or "?"] = per_tenant.get(row.get("tenant") or "?", 0) + row["count"]
        customer_ids = {t["customerId"] for t in sim.tenants}
        customer_counts = [per_tenant.get(t, 0) for t in customer_ids]
        exactly_one = all(c == 1 for c in customer_counts)
        ctx.figures.append(Figure(
            "P5", f"token requests under {connections} concurrent first calls across {tenants} tenants",
            f"{sum(customer_counts)} token requests for {tenants} tenants (min {min(customer_counts)}, "
            f"max {max(customer_counts)} per tenant); {load.requests} calls, {load.bad} failed",
            "exactly one per tenant and scope", exactly_one and load.bad == 0))
    finally:
        if api:
            api.close()
        sim.close()


def p6_p7_cold_start_and_idle(ctx: Context) -> None:
    sim = Sim(ctx.sim_bin, ctx.work, 3, 30)
    try:
        data = ctx.data_dir("p6")
        first = Api(ctx.api_bin, sim, data, ctx.api_app_id)  # creates the database
        caller = sim.caller_token(ctx.api_app_id)
        domain = sim.tenants[0]["defaultDomainName"]
        first.get(f"/api/ListUsers?tenantFilter={domain}", caller)
        first.close()
        starts, readies = [], []
        idle, warm = [], []
        for _ in range(3 if ctx.quick else 7):
            api = Api(ctx.api_bin, sim, data, ctx.api_app_id)
            try:
                status, body = api.get(f"/api/ListUsers?tenantFilter={domain}", caller)
                answered = time.perf_counter()
                if status != 200 or not rows_of(body):
                    raise BenchError(f"P6: first ListUsers answered {status}")
                starts.append(answered - api.started)
                readies.append(api.ready - api.started)
                warm.append(api.rss_mb())
            finally:
                api.close()
        api = Api(ctx.api_bin, sim, data, ctx.api_app_id)
        try:
            time.sleep(2)
            idle.append(api.rss_mb())
        finally:
            api.close()
        cold = statistics.median(starts) * 1000
        ctx.figures.append(Figure(
            "P6", "cold start to the first authenticated ListUsers answered (production mode, "
            "database created, simulator in its own process)",
            f"{cold:.0f} ms median of {len(starts)} (listening after {statistics.median(readies) * 1000:.0f} ms)",
            "≤ 100 ms", cold <= 100))
        ctx.figures.append(Figure(
            "P7", "idle RSS in production mode (no simulator in the process)",
            f"{idle[0]:.1f} MB idle; {statistics.median(warm):.1f} MB after the first ListUsers",
            "≤ 30 MB", idle[0] <= 30))
    finally:
        sim.close()


def p8_throughput(ctx: Context) -> None:
    sim = Sim(ctx.sim_bin, ctx.work, 3, 100)
    api = None
    try:
        api = Api(ctx.api_bin, sim, ctx.data_dir("p8"), ctx.api_app_id)
        tenant = sim.tenants[0]
        caller = sim.caller_token(ctx.api_app_id)
        graph_token = sim.graph_token(tenant["customerId"])
        seconds = 3 if ctx.quick else 10
        connections = 64 if ctx.quick else 512
        direct_url = sim.base + LIST_USERS_GRAPH_PATH
        api_url = f"{api.base}/api/ListUsers?tenantFilter={tenant['defaultDomainName']}"
        headers = {"Authorization": f"Bearer {graph_token}", "ConsistencyLevel": "eventual"}
        wrk(direct_url, connections, 1, headers)
        wrk(api_url, connections, 1, {"Authorization": f"Bearer {caller}"})
        direct = wrk(direct_url, connections, seconds, headers)
        through = wrk(api_url, connections, seconds, {"Authorization": f"Bearer {caller}"})
        if direct.bad or through.bad:
            raise BenchError(f"P8: failed answers (direct {direct.bad}, API {through.bad})")
        ratio = through.requests_per_second / direct.requests_per_second
        ctx.figures.append(Figure(
            "P8", f"throughput at {connections} connections, ListUsers of a 100-user tenant, 0 ms latency",
            f"API {through.requests_per_second:.0f} req/s (p50 {through.p50_ms:.1f} ms) ÷ simulator "
            f"{direct.requests_per_second:.0f} req/s (p50 {direct.p50_ms:.1f} ms) = {ratio:.2f}",
            "≥ 0.5", ratio >= 0.5,
            ["the simulator, the API and wrk share the machine's cores"]))
    finally:
        if api:
            api.close()
        sim.close()


def a1_audit_flood(ctx: Context) -> None:
    """Issue 12, must-show 3: the log full of the largest rows a hostile caller can leave."""
    rows = 2_000 if ctx.quick else 1_000_000
    days = 7
    data = ctx.data_dir("a1")
    os.makedirs(data, exist_ok=True)
    filled = subprocess.run([ctx.fill_bin, os.path.join(data, "cipp.db"), str(rows), str(days)],
                            capture_output=True, text=True, check=True).stdout
    fill = dict(pair.split("=") for pair in filled.split())
    db_mb = os.path.getsize(os.path.join(data, "cipp.db")) / 1e6
    # Quick runs hold fewer rows than the default cap, so they lower it to see the cut row.
    cap = 500 if ctx.quick else 5_000
    sim = Sim(ctx.sim_bin, ctx.work, 3, 10)
    api = None
    try:
        api = Api(ctx.api_bin, sim, data, ctx.api_app_id, {"CIPP_LIST_LOGS_MAX_ROWS": str(cap)})
        caller = sim.caller_token(ctx.api_app_id)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        first = today - datetime.timedelta(days=days)
        whole = (f"/api/ListLogs?Filter=true&Severity=Warning&StartDate={first:%Y%m%d}"
                 f"&EndDate={today:%Y%m%d}")
        reads = [("today's rows (the logbook's default)", "/api/ListLogs"),
                 (f"every day ({days})", whole),
                 ("PageSize=10000", whole + "&PageSize=10000")]
        table = ["### A1: ListLogs over the flooded log", "",
                 "| read | rows answered | answer | seconds |", "| --- | --- | --- | --- |"]
        largest = 0
        for what, path in reads:
            seconds, status, body = timed_read(api, path, caller)
            if status != 200:
                raise BenchError(f"A1: {what} answered {status}: {body[:200]!r}")
            answered = len(rows_of(body))
            largest = max(largest, len(body))
            table.append(f"| {what} | {answered:,} | {len(body) / 1e6:.1f} MB | {seconds:.2f} |")
        # Four whole-range reads at once, as several clients paging the logbook would.
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: api.get(whole, caller), range(4)))
        if any(status != 200 for status, _ in answers):
            raise BenchError("A1: a concurrent read failed")
        largest = max([largest] + [len(body) for _, body in answers])
        table.append(f"| every day, 4 at once | {len(rows_of(answers[0][1])):,} each | "
                     f"{max(len(b) for _, b in answers) / 1e6:.1f} MB each | |")
        peak = api.hwm_mb()
        table += ["", f"Filled by `examples/fill_audit.rs`: {int(fill['rows']):,} rows, "
                  f"{int(fill['bytes']) / 1e9:.1f} GB of parameters and messages, "
                  f"{float(fill['seconds']):.0f} s ({fill['rows_per_second']} rows/s), "
                  f"SQLite file {db_mb:,.0f} MB.", ""]
        ctx.tables.extend(table)
        ctx.figures.append(Figure(
            "A1", f"{rows:,} audit rows of the largest size (16 KB) in the log: ListLogs answers "
            f"and the API's memory (issue 12)",
            f"largest answer {largest / 1e6:.1f} MB ({cap:,} rows and the cut row); peak RSS {peak:.1f} MB",
            "answers bounded; RSS < 150 MB", peak < 150))
    finally:
        if api:
            api.close()
        sim.close()


CASES = {
    "P1": p1_added_latency, "P2": p2_bec, "P3": p3_all_tenants, "P4": p4_big_tenant,
    "P5": p5_token_single_flight, "P6": p6_p7_cold_start_and_idle, "P8": p8_throughput,
    "A1": a1_audit_flood,
}


# ---- the report --------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB RAM, Linux {platform.release()}; "
            f"load average {load:.1f} when the run ended")


def head() -> str:
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# Why a target is not met here, and what would close it: measured on the 2-core machine of
# benches/README.md (profiles there). Printed under the table for every figure not met.
WHY = {
    "P1": "At 1 connection nothing queues and the API adds 0.1 to 0.3 ms (p50) across runs. At 8 and 64 connections "
          "the two cores are saturated by wrk, the simulator and the API together: the direct run "
          "is bounded by the simulator's CPU, the API run by the simulator's plus the API's (about "
          "0.17 ms of CPU per call: 8,500 against 29,000 req/s at 8 connections), so the added "
          "p50 is queueing, a throughput figure rather than per-call overhead. Separating the two "
          "needs the API on cores of its own (a machine with 4 or more cores, or the simulator on "
          "a second host).",
    "P2": "The collectors themselves take about the critical path (two calls one after another "
          "for the audit log, and for a consent and its application); what is over it is the job's "
          "own bookkeeping: the case and each step's state are committed to the store and the job "
          "database before and after each step (several durable writes), the evidence is kept "
          "between the two steps, and the report is read back by polling. What would close it: "
          "fewer durable writes per step for jobs whose steps only read (a BEC check can simply "
          "be run again), or collecting and scoring in one step.",
    "P4": "The simulator itself needs about 30 ms of CPU per page of 999 full users with the "
          "manager expanded (101 pages read straight from it, one after another, take about "
          "3.3 s at 0 ms and 5.1 s at 20 ms), so pages × latency is out of reach for any client "
          "of this simulator. Against that direct read the API takes about 1.2 × (its own parse "
          "and write of 214 MB). What would close it: pre-rendered users in the simulator for the "
          "nominal floor, and a one-page read-ahead in the Graph client's paging stream so the "
          "API's own work overlaps the wait for the next page.",
    "P8": "The API parses each Graph page into a JSON tree, adds CIPP's computed fields and writes "
          "it out again (profile: about 42% parse, 26% write, most of the rest allocation): about "
          "1.4 × the simulator's CPU for the same page, and both share the two cores. What would "
          "close it: pass Graph's rows through as raw JSON and read only the four fields the "
          "computed columns need (userPrincipalName, proxyAddresses, assignedLicenses, "
          "onPremisesSyncEnabled), which the profile puts at about half the API's CPU on this read.",
}


def report(ctx: Context, command: str, profile: str, started: datetime.datetime) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{command}` ({profile} build, HEAD `{head()}`), "
        f"{started:%Y-%m-%d %H:%M} UTC. Machine: {machine()}.",
        "",
        "| | what | figure | target | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in ctx.figures:
        verdict = "n/a" if f.met is None else ("**met**" if f.met else "**not met**")
        notes = f" ({'; '.join(f.notes)})" if f.notes else ""
        lines.append(f"| {f.key} | {f.what}{notes} | {f.figure} | {f.target} | {verdict} |")
    lines.append("")
    missed = [f for f in ctx.figures if f.met is not True and f.key in WHY]
    if missed:
        lines += ["## Targets not met here: why, and what would close it", ""]
        lines += [f"- **{f.key}**: {WHY[f.key]}" for f in missed]
        lines.append("")
    lines.extend(ctx.tables)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, debug build, short runs")
    parser.add_argument("--only", help="comma-separated cases, e.g. P1,P6")
    parser.add_argument("--output", help="where to write the report")
    parser.add_argument("--profile", help="cargo profile (default: release, or dev with --quick)")
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        log("wrk is needed: apt-get install wrk")
        return 2
    # 1,000 client connections plus the API's own: more than the usual 1,024 descriptors
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    profile = args.profile or ("dev" if args.quick else "release")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    out_dir = os.path.join(target, "debug" if profile == "dev" else profile)
    if not args.skip_build:
        log(f"building cipp-users and cipp-sim ({profile})")
        subprocess.run(["cargo", "build", "--locked", "--profile", profile, "-p", "cipp-users", "--bin",
                        "cipp-users", "-p", "cipp-sim", "--bin", "cipp-sim"], cwd=ROOT, check=True)
        subprocess.run(["cargo", "build", "--locked", "--profile", profile, "-p", "cipp-users",
                        "--example", "fill_audit"], cwd=ROOT, check=True)
    output = args.output or (os.path.join(target, "bench-quick", "RESULTS.md") if args.quick
                             else os.path.join(ROOT, "benches", "RESULTS.md"))
    with open(os.path.join(ROOT, "crates", "sim", "src", "lib.rs"), encoding="utf-8") as lib:
        api_app_id = re.search(r'api_app_id: "([0-9a-f-]+)"', lib.read()).group(1)

    started = datetime.datetime.now(datetime.timezone.utc)
    wanted = [c.strip().upper() for c in args.only.split(",")] if args.only else list(CASES)
    only = list(dict.fromkeys("P6" if key == "P7" else key for key in wanted))  # P6 measures P7 too
    unknown = [key for key in only if key not in CASES]
    if unknown:
        log(f"unknown case(s) {', '.join(unknown)}; known: P1-P8, A1")
        return 2
    with tempfile.TemporaryDirectory(prefix="cipp-bench-") as work:
        ctx = Context(args.quick, os.path.join(out_dir, "cipp-users"), os.path.join(out_dir, "cipp-sim"),
                      os.path.join(out_dir, "examples", "fill_audit"), work, api_app_id)
        for key in only:
            log(f"{key} ...")
            case_started = time.perf_counter()
            CASES[key](ctx)
            log(f"{key} done in {time.perf_counter() - case_started:.0f} s")
    command = "benches/suite.py" + (" --quick" if args.quick else "") + (f" --only {args.only}" if args.only else "")
    text = report(ctx, command, profile, started)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as out:
        out.write(text)
    print(text)
    log(f"wrote {output}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        log(f"error: {error}")
        sys.exit(1)
