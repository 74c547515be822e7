#!/usr/bin/env python3
"""Turns one compare-sam.sh run into the Markdown report: per phase the wall times and API-call
counts of both tools against the issue's targets, start-up and peak RSS, and the calls each tool
makes per phase (median count of each call over the rounds).

Usage: summarize.py WORK_DIR OUT_MD (SAMRS_VERSION, SAM_VERSION in the environment)."""
import collections
import datetime
import json
import os
import platform
import statistics
import sys

PHASES = ["create", "noop", "update", "delete"]
TOOLS = ["sam", "samrs"]
# (samrs/sam ratio at most, samrs seconds at most or None, description)
TARGETS = {
    "create": (1 / 10, None, "≤ 1/10 of sam"),
    "noop": (1 / 8, 0.2, "≤ 0.2 s and ≤ 1/8 of sam"),
    "update": (1 / 10, None, "≤ 1/10 of sam"),
    "delete": (1 / 5, None, "≤ 1/5 of sam"),
}
STARTUP_TARGET_MS = 5.0


def read_times(work):
    times = collections.defaultdict(list)  # (tool, phase) -> [(label, ms)]
    with open(os.path.join(work, "times.tsv")) as f:
        for line in f:
            tool, phase, label, ms = line.rstrip("\n").split("\t")
            times[(tool, phase)].append((label, int(ms)))
    return times


def read_calls(work, label):
    path = os.path.join(work, "calls", f"{label}.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split("\t")[0] for line in f if line.strip()]


def median(values):
    return statistics.median(values) if values else float("nan")


def fmt_s(ms_values):
    s = [v / 1000 for v in ms_values]
    return f"{median(s):.2f} ({min(s):.2f}–{max(s):.2f})"


def fmt_count(value):
    return f"{value:g}"


def phase_rows(times, work):
    rows, per_action = [], {}
    for phase in PHASES:
        ms = {t: [m for _, m in times[(t, phase)]] for t in TOOLS}
        calls = {t: [read_calls(work, label) for label, _ in times[(t, phase)]] for t in TOOLS}
        counts = {t: median([len(c) for c in calls[t]]) for t in TOOLS}
        ratio = median(ms["samrs"]) / median(ms["sam"])
        max_ratio, max_s, text = TARGETS[phase]
        time_met = ratio <= max_ratio and (max_s is None or median(ms["samrs"]) / 1000 <= max_s)
        calls_met = counts["samrs"] < counts["sam"]
        rows.append(f"| {phase} | {fmt_s(ms['sam'])} | {fmt_s(ms['samrs'])} | {ratio:.3f} | {text} | "
                    f"{'yes' if time_met else 'no'} | {fmt_count(counts['sam'])} | {fmt_count(counts['samrs'])} | "
                    f"{'yes' if calls_met else 'no'} |")
        per_action[phase] = {t: action_medians(calls[t]) for t in TOOLS}
    return rows, per_action


def action_medians(runs):
    """The median count of each call over the runs (a call missing from a run counts 0)."""
    names = sorted({name for run in runs for name in run})
    counted = [collections.Counter(run) for run in runs]
    return {name: median([c[name] for c in counted]) for name in names}


def startup_rows(work):
    path = os.path.join(work, "startup.json")
    if not os.path.exists(path):
        return []
    results = {r["command"]: r for r in json.load(open(path))["results"]}
    ms = {t: results[t]["median"] * 1000 for t in TOOLS}
    spread = {t: f"{ms[t]:.1f} ({results[t]['min'] * 1000:.1f}–{results[t]['max'] * 1000:.1f})" for t in TOOLS}
    met = "yes" if ms["samrs"] <= STARTUP_TARGET_MS else "no"
    return [f"| `--version` start-up, ms | {spread['sam']} | {spread['samrs']} | {ms['samrs'] / ms['sam']:.3f} "
            f"| samrs ≤ 5 ms | {met} | | | |"]


def rss_rows(work):
    kb = {}
    for tool in TOOLS:
        path = os.path.join(work, f"rss.{tool}")
        if os.path.exists(path) and open(path).read().strip():
            kb[tool] = int(open(path).read().strip())
    if len(kb) < 2:
        return []
    return [f"| peak RSS of a create, MB | {kb['sam'] / 1024:.0f} | {kb['samrs'] / 1024:.1f} | "
            f"{kb['samrs'] / kb['sam']:.3f} | | | | | |"]


def call_tables(per_action):
    out = []
    for phase in PHASES:
        sam, samrs = per_action[phase]["sam"], per_action[phase]["samrs"]
        names = sorted(set(sam) | set(samrs), key=lambda n: (-max(sam.get(n, 0), samrs.get(n, 0)), n))
        out += ["", f"### {phase}", "", "| call | sam | samrs |", "| --- | ---: | ---: |"]
        out += [f"| {name} | {fmt_count(sam.get(name, 0))} | {fmt_count(samrs.get(name, 0))} |" for name in names]
    return out


def main():
    work, out_md = sys.argv[1:3]
    times = read_times(work)
    rounds = len(times[("samrs", "create")])
    rows, per_action = phase_rows(times, work)
    load_end = " ".join(f"{v:.2f}" for v in os.getloadavg())
    start_path = os.path.join(work, "load.start")
    load_start = open(start_path).read().strip() if os.path.exists(start_path) else "?"
    lines = [
        "# samrs vs SAM CLI",
        "",
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load_start} at the start, {load_end} at the end; samrs: `{os.environ.get('SAMRS_VERSION', '?')}`, "
        f"sam: `{os.environ.get('SAM_VERSION', '?')}`; {rounds} rounds.",
        "",
        "`bash bench/compare-sam.sh` against the local emulator (patched moto) behind a counting proxy; "
        "a template with 5 image functions (managed repositories) and a zip function; each tool polls "
        "as it does by default (sam sleeps 5 s between polls). Times in seconds: median (min–max); "
        "calls: median number of AWS API calls.",
        "",
        "| phase | sam | samrs | samrs/sam | target | met | sam calls | samrs calls | fewer calls |",
        "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | --- |",
        *rows,
        *startup_rows(work),
        *rss_rows(work),
        "",
        "## API calls per phase",
        "",
        "Median count of each call over the rounds.",
        *call_tables(per_action),
        "",
    ]
    with open(out_md, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
