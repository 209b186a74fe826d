#!/usr/bin/env python3
"""Summarise a schemathesis run for the CI log, and decide whether it passed.

Reads the HAR report (`--report har`: every call schemathesis made and its answer), the JSON run
report (`--report json`) and the OpenAPI document that was tested. Prints, per operation, the
calls made and how many were answered 2xx (with the status spread), the total, and the failures
by kind with the checks that raise them. Exits non-zero when:

  - schemathesis itself failed (a failure, an error, or an incomplete run: its exit code or the
    JSON report says so),
  - fewer than --min-calls calls were made in total,
  - an operation under test never answered 2xx (to a request with its own method),
  - an operation excluded as not implemented was called.

A call is one HTTP request schemathesis sent and recorded: generated cases, the undeclared-method
and missing-auth probes of the coverage phase, and the no-auth/invalid-auth replays of
`ignored_auth`. Each is counted under the operation it was testing.

(The NDJSON report would give per-check results too, but a failure's message there carries the
whole response body: 250 MB for one run against the current document.)

Standard library only (schemathesis' failure-code table is used when importable), Python 3.10+.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace", "query"}


def operations_under_test(document: dict) -> tuple[set[str], set[str]]:
    """Labels (`METHOD /path`) of the operations tested, and of those excluded as not implemented."""
    included: set[str] = set()
    excluded: set[str] = set()
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            label = f"{method.upper()} {path}"
            # Mirrors the `[[operations]]` entry in schemathesis.toml that disables these.
            if operation.get("x-cipp-implemented") is False:
                excluded.add(label)
            else:
                included.add(label)
    return included, excluded


def read_calls(har: Path, operations: set[str]):
    """Per operation label: Counter of response statuses (0 = no response), and 2xx to its own method.

    A call is attributed by method and path; one sent with another method (the coverage phase's
    undeclared-method probes) goes to the operation at that path (one operation per path here).
    """
    by_path = {label.split(" ", 1)[1]: label for label in operations}
    statuses: dict[str, Counter] = defaultdict(Counter)
    own_2xx: Counter = Counter()
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    for entry in entries:
        method = entry["request"]["method"].upper()
        path = urlsplit(entry["request"]["url"]).path
        label = f"{method} {path}"
        if label not in operations:
            label = by_path.get(path, f"{method} {path}")
        status = int(entry["response"]["status"])
        statuses[label][status] += 1
        if 200 <= status < 300 and method == label.split(" ", 1)[0]:
            own_2xx[label] += 1
    return statuses, own_2xx


def checks_of(code: str) -> str:
    """The checks that raise failures with this code (schemathesis' own table, when importable)."""
    try:
        from schemathesis.failure_codes import get_failure_class
    except ImportError:
        return "?"
    cls = get_failure_class(code)
    return ", ".join(getattr(cls, "checks", ()) or ()) or "?"


def spread(counter: Counter) -> str:
    return " ".join(f"{status if status else 'none'}:{count}" for status, count in sorted(counter.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--har", type=Path, required=True, help="the HAR report: every call and its answer")
    parser.add_argument("--report", type=Path, required=True, help="the JSON run report")
    parser.add_argument("--openapi", type=Path, required=True, help="the document that was tested")
    parser.add_argument("--min-calls", type=int, default=5000)
    parser.add_argument("--exit-code", type=int, default=None, help="schemathesis' own exit code")
    args = parser.parse_args()

    document = json.loads(args.openapi.read_text(encoding="utf-8"))
    included, excluded = operations_under_test(document)
    problems: list[str] = []
    if args.har.exists():
        statuses, own_2xx = read_calls(args.har, included | excluded)
    else:
        statuses, own_2xx = {}, Counter()
        problems.append(f"no HAR report at {args.har}")
    report = json.loads(args.report.read_text(encoding="utf-8")) if args.report.exists() else None

    print("== schemathesis: calls per operation (2xx counts answers to the operation's own method)")
    width = max([len(label) for label in included | set(statuses)] + [9])
    print(f"{'operation':<{width}}  {'calls':>6}  {'2xx':>6}  statuses")
    for label in sorted(included | set(statuses), key=lambda item: (item.split(" ", 1)[-1], item)):
        counter = statuses.get(label, Counter())
        calls = sum(counter.values())
        marker = ""
        if label in excluded:
            marker = "  (x-cipp-implemented: false, should not have been called)"
            problems.append(f"{label} is excluded (not implemented) but was called {calls} times")
        elif label not in included:
            marker = "  (not an operation of the document)"
        print(f"{label:<{width}}  {calls:>6}  {own_2xx.get(label, 0):>6}  {spread(counter)}{marker}")
    total = sum(sum(counter.values()) for counter in statuses.values())
    total_2xx = sum(own_2xx.values())
    print(f"{'total':<{width}}  {total:>6}  {total_2xx:>6}")
    print(f"operations under test: {len(included)}; excluded as x-cipp-implemented: false: {len(excluded)}")

    if report is not None:
        print("\n== schemathesis: failures by kind (unique failures, from the run report)")
        for group in report.get("failures", []):
            print(
                f"{group['code']} {group['title']} [{checks_of(group['code'])}]: "
                f"{group['count']} in {len(group['operations'])} operations"
            )
        for group in report.get("errors", []):
            print(f"error: {group['title']}: {group['count']}")
        cases = report.get("test_cases", {})
        print(
            f"test cases: {cases.get('generated')} generated, {cases.get('with_failures')} with failures, "
            f"{cases.get('errored')} errored; stop reason: {report.get('stop_reason')}; "
            f"running time {report.get('running_time', 0):.0f} s"
        )
        if report.get("failures"):
            problems.append(f"schemathesis reported {sum(g['count'] for g in report['failures'])} unique failures")
        if report.get("errors"):
            problems.append(f"schemathesis reported {sum(g['count'] for g in report['errors'])} errors")
        if not report.get("complete", False) or report.get("stop_reason") != "completed":
            problems.append(f"the run did not complete (stop reason: {report.get('stop_reason')})")
    else:
        problems.append(f"no JSON run report at {args.report}")
    if args.exit_code not in (None, 0):
        problems.append(f"schemathesis exited with {args.exit_code}")

    if total < args.min_calls:
        problems.append(f"only {total} calls were made; at least {args.min_calls} are required")
    never_2xx = sorted(label for label in included if own_2xx.get(label, 0) == 0)
    for label in never_2xx:
        problems.append(f"{label} never answered 2xx ({spread(statuses.get(label, Counter())) or 'never called'})")

    print()
    if problems:
        print(f"schemathesis: FAILED ({len(problems)} problems)")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print(f"schemathesis: passed ({total} calls, {len(included)} operations, every one answered 2xx)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
