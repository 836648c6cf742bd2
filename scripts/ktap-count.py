#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Counts the KUnit results in a kernel log, with the kernel's own KTAP parser
(tools/testing/kunit/kunit.py, from the DUT source tree).

    ktap-count.py KUNIT_PY LOG     prints "passed failed skipped suites" and the
                                   failing cases; exits 1 if anything failed,
                                   crashed, or no test ran at all.
"""
import json
import re
import subprocess
import sys
import tempfile

# A top-level KTAP header in a kernel log line (after the timestamp), and the
# plan that follows it: "1..0" is KUnit's empty boot-time report.
TOP_HEADER = re.compile(r"^(\[[^\]]*\] )?KTAP version \d+\s*$")
EMPTY_PLAN = re.compile(r"^(\[[^\]]*\] )?1\.\.0\s*$")


def documents(log):
    """Splits a kernel log into its top-level KTAP documents (one per run of
    KUnit: at boot, and at each load of a module with suites), dropping the
    empty ones."""
    with open(log, errors="replace") as f:
        lines = f.readlines()
    starts = [i for i, line in enumerate(lines) if TOP_HEADER.match(line)]
    docs = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        doc = lines[start:end]
        if len(doc) > 1 and EMPTY_PLAN.match(doc[1]):
            continue
        docs.append("".join(doc))
    return docs


def walk(node, path, counts, failures):
    cases = node.get("test_cases", [])
    for case in cases:
        status = case.get("status", "")
        name = f"{path}.{case.get('name', '?')}"
        if status == "PASS":
            counts["passed"] += 1
        elif status == "SKIP":
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
            failures.append(f"{name}: {status}")
    for sub in node.get("sub_groups", []):
        counts["suites"] += 1
        walk(sub, f"{path}.{sub.get('name', '?')}" if path else sub.get("name", "?"), counts, failures)


def parse(kunit_py, doc, counts, failures):
    """Parses one KTAP document with kunit.py; returns its report if kunit.py
    found a problem (crash, missing plan...), else None."""
    with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
        f.write(doc)
        f.flush()
        proc = subprocess.run(
            [sys.executable, kunit_py, "parse", "--json", f.name],
            capture_output=True, text=True, check=False)
    # kunit.py prints its human-readable report first (which may quote
    # braces from failure messages), then the JSON object, from a line that
    # is just "{" to the end.
    text = proc.stdout
    tree, start = None, -1
    for m in reversed(list(re.finditer(r"^\{$", text, re.MULTILINE))):
        try:
            tree, start = json.loads(text[m.start():]), m.start()
            break
        except json.JSONDecodeError:
            continue
    if tree is None:
        return text[-2000:] + proc.stderr[-2000:]
    walk(tree, "", counts, failures)
    return text[:start][-3000:] if proc.returncode != 0 else None


def main():
    kunit_py, log = sys.argv[1], sys.argv[2]
    counts = {"passed": 0, "failed": 0, "skipped": 0, "suites": 0}
    failures = []
    reports = []
    for doc in documents(log):
        report = parse(kunit_py, doc, counts, failures)
        if report:
            reports.append(report)
    print(counts["passed"], counts["failed"], counts["skipped"], counts["suites"])
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    if counts["passed"] == 0:
        print("ktap-count: no KUnit results in the log", file=sys.stderr)
    if counts["failed"] or counts["passed"] == 0 or reports:
        for report in reports:
            print(report, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
