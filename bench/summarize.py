#!/usr/bin/env python3
"""Turns one compare-sam.sh run into the Markdown report: per phase the wall times and API-call
counts of both tools against the issue's targets, start-up and peak RSS, and the calls each tool
makes per phase (median count of each call over the rounds). In the wall-clock model (MODE=wall-clock,
OP_SECONDS, CHANGESET_SECONDS), the targets are floors (the operations no deploy avoids waiting
for), and each tool's median run of every phase is broken down: its stack operations, when each
ended and when the tool noticed, and the describe calls each stack got per second.

Usage: summarize.py WORK_DIR OUT_MD (SAMRS_VERSION, SAM_VERSION, MODE, OP_SECONDS,
CHANGESET_SECONDS in the environment)."""
import collections
import datetime
import json
import os
import platform
import statistics
import sys

MODE = os.environ.get("MODE", "instant")
OP_SECONDS = float(os.environ.get("OP_SECONDS") or 0)
CHANGESET_SECONDS = float(os.environ.get("CHANGESET_SECONDS") or 0)
PHASES = ["create", "update", "delete"] if MODE == "wall-clock" else ["create", "noop", "update", "delete"]
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


def read_log(work, label):
    """The calls of one command: name, status, arrival and duration in seconds, stack."""
    path = os.path.join(work, "calls", f"{label}.log")
    if not os.path.exists(path):
        return []
    calls = []
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 4:
                continue
            calls.append({"name": fields[0], "status": int(fields[1]), "at": int(fields[2]) / 1000,
                          "took": int(fields[3]) / 1000, "stack": fields[4] if len(fields) > 4 else ""})
    return calls


def read_calls(work, label):
    return [call["name"] for call in read_log(work, label)]


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


# ---------------------------------------------------------------- wall-clock model

DESCRIBES = {"DescribeStacks", "DescribeStackEvents", "DescribeChangeSet"}
# The floor of each phase: what a deploy cannot avoid waiting for, with what may run beside it.
FLOORS = {
    "create": (2, "companion stack (T, the change set beside it), then the execution (T)"),
    "update": (2, "companion phase 1 (T), then the execution (T); the clean-up only started"),
    "delete": (2, "main stack (T), then the companion stack (T)"),
}


def action(call):
    return call["name"].split(":", 1)[-1]


def role(stack):
    if stack == "aws-sam-cli-managed-default":
        return "managed bucket"
    return "companion" if stack.endswith("-CompanionStack") else "main"


def operations(calls):
    """The stack operations of one command with when each was answered (the emulator's clock starts
    then), when it ends, and when the tool first read the stack (or change set) after that."""
    seconds = {"CreateChangeSet": CHANGESET_SECONDS, "ExecuteChangeSet": OP_SECONDS,
               "CreateStack": OP_SECONDS, "UpdateStack": OP_SECONDS, "DeleteStack": OP_SECONDS}
    out = []
    for i, call in enumerate(calls):
        name = action(call)
        if name not in seconds or call["status"] != 200 or not call["stack"]:
            continue
        polls = {"DescribeChangeSet"} if name == "CreateChangeSet" else {"DescribeStacks", "DescribeStackEvents"}
        start = call["at"] + call["took"]
        end = start + seconds[name]
        noticed = next((c["at"] for c in calls[i + 1:]
                        if c["stack"] == call["stack"] and action(c) in polls and c["at"] >= end), None)
        out.append({"what": f"{role(call['stack'])} {name}", "start": start, "end": end, "noticed": noticed})
    return out


def union(intervals):
    total, reach = 0.0, None
    for a, b in sorted(intervals):
        if reach is None or a > reach:
            total += b - a
            reach = b
        elif b > reach:
            total += b - reach
            reach = b
    return total


def busiest_second(calls):
    """The most describe calls one stack got within any one second, and that stack."""
    best = (0, "")
    by_stack = collections.defaultdict(list)
    for call in calls:
        if action(call) in DESCRIBES and call["stack"]:
            by_stack[call["stack"]].append(call["at"])
    for stack, times in by_stack.items():
        times.sort()
        for i, t in enumerate(times):
            best = max(best, (sum(1 for u in times[i:] if u < t + 1), role(stack)))
    return best


def wall_clock_rows(times, work):
    rows = []
    for phase in PHASES:
        ms = {t: [m for _, m in times[(t, phase)]] for t in TOOLS}
        calls = {t: [read_log(work, label) for label, _ in times[(t, phase)]] for t in TOOLS}
        counts = {t: median([len(c) for c in calls[t]]) for t in TOOLS}
        busiest = {t: max(busiest_second(c)[0] for c in calls[t]) for t in TOOLS}
        sam_s, samrs_s = median(ms["sam"]) / 1000, median(ms["samrs"]) / 1000
        factor, _ = FLOORS[phase]
        floor = factor * OP_SECONDS
        target = 1.05 * floor + 1
        met = samrs_s <= target and samrs_s < sam_s
        rows.append(f"| {phase} | {fmt_s(ms['sam'])} | {fmt_s(ms['samrs'])} | {samrs_s / sam_s:.3f} | {floor:g} | "
                    f"≤ {target:.1f} and < sam | {'yes' if met else 'no'} | {fmt_count(counts['sam'])} | "
                    f"{fmt_count(counts['samrs'])} | {busiest['sam']} | {busiest['samrs']} |")
    return rows


def breakdown(times, work, tool, phase):
    """The tool's median run of the phase, operation by operation, and the gaps over all rounds."""
    runs = sorted(times[(tool, phase)], key=lambda r: r[1])
    label, total_ms = runs[len(runs) // 2]
    total = total_ms / 1000
    ops = operations(read_log(work, label))
    all_ops = [operations(read_log(work, l)) for l, _ in runs]
    same = all(len(o) == len(ops) and [x["what"] for x in o] == [x["what"] for x in ops] for o in all_ops)
    out = [f"#### {tool} {phase}: {total:.2f} s (the median run)", "",
           "| # | operation | answered at | ends at | noticed at | noticed after the end | over all rounds: median (max) |",
           "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for i, op in enumerate(ops):
        gap = "not waited for" if op["noticed"] is None else f"{op['noticed'] - op['end']:.2f}"
        noticed = "" if op["noticed"] is None else f"{op['noticed']:.2f}"
        gaps = [o[i]["noticed"] - o[i]["end"] for o in all_ops if same and o[i]["noticed"] is not None]
        spread = f"{median(gaps):.2f} ({max(gaps):.2f})" if gaps else ""
        out.append(f"| {i + 1} | {op['what']} | {op['start']:.2f} | {op['end']:.2f} | {noticed} | {gap} | {spread} |")
    waited = union([(op["start"], op["noticed"]) for op in ops if op["noticed"] is not None])
    # An operation left running (the clean-up) counts while the command ran only.
    running = union([(op["start"], op["end"]) for op in ops if op["noticed"] is not None])
    out += ["", f"{total:.2f} s = {running:.2f} s of stack operations and change sets (overlaps counted once) "
            f"+ {waited - running:.2f} s between their ends and the tool noticing "
            f"+ {total - waited:.2f} s of the tool's own work (start-up, reads, uploads, between operations).", ""]
    return out


def wall_clock_report(times, work, header):
    rows = wall_clock_rows(times, work)
    per_action = {phase: {t: action_medians([read_calls(work, l) for l, _ in times[(t, phase)]]) for t in TOOLS}
                  for phase in PHASES}
    lines = [
        *header,
        "",
        f"`bash bench/compare-sam.sh --op-seconds {OP_SECONDS:g} --changeset-seconds {CHANGESET_SECONDS:g}` against "
        "the local emulator in its wall-clock model: every stack operation (ExecuteChangeSet, CreateStack, "
        f"UpdateStack, DeleteStack) takes T = {OP_SECONDS:g} s and every change set C = {CHANGESET_SECONDS:g} s, "
        "as on AWS. A template with a zip function and two image functions (managed repositories); update: "
        "one image function added and one removed; the managed bucket exists before timing. Each tool polls as "
        "it does by default. Times in seconds: median (min–max); calls: median number of AWS API calls; "
        "busiest second: the most describe calls (DescribeStacks, DescribeStackEvents, DescribeChangeSet) one "
        "stack got within one second, over all rounds.",
        "",
        "| phase | sam | samrs | samrs/sam | floor | target | met | sam calls | samrs calls | sam busiest second | samrs busiest second |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        "Floors: " + "; ".join(f"{p} = {FLOORS[p][1]} = {FLOORS[p][0] * OP_SECONDS:g} s" for p in PHASES)
        + ". Target: each phase ≤ 1.05 × floor + 1 s, and faster than sam.",
        "",
        "## Where the time goes",
        "",
        "Each tool's median run of each phase: its stack operations (the time the emulator answered the call, "
        "when the operation ends, and the tool's first read of that stack or change set after the end), in "
        "seconds from the start of the command.",
        "",
    ]
    for phase in PHASES:
        for tool in ("samrs", "sam"):
            lines += breakdown(times, work, tool, phase)
    lines += ["## API calls per phase", "", "Median count of each call over the rounds.", *call_tables(per_action), ""]
    return lines


def main():
    work, out_md = sys.argv[1:3]
    times = read_times(work)
    rounds = len(times[("samrs", "create")])
    load_end = " ".join(f"{v:.2f}" for v in os.getloadavg())
    start_path = os.path.join(work, "load.start")
    load_start = open(start_path).read().strip() if os.path.exists(start_path) else "?"
    header = [
        "# samrs vs SAM CLI" + (" on a wall-clock CloudFormation" if MODE == "wall-clock" else ""),
        "",
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load_start} at the start, {load_end} at the end; samrs: `{os.environ.get('SAMRS_VERSION', '?')}`, "
        f"sam: `{os.environ.get('SAM_VERSION', '?')}`; {rounds} rounds.",
    ]
    if MODE == "wall-clock":
        lines = wall_clock_report(times, work, header)
    else:
        rows, per_action = phase_rows(times, work)
        lines = [
            *header,
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
