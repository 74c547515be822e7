#!/usr/bin/env python3
"""Turns one compare-push.sh run into its Markdown report: per layout the wall times of skopeo's
pushes and samrs's whole deploy against the issue's targets, the span of samrs's registry
traffic, the bytes each tool sent against the layout's unique bytes, and samrs's peak RSS.

Usage: summarize_push.py WORK_DIR OUT_MD (SAMRS_VERSION, SKOPEO_VERSION, UNIQUE_big,
UNIQUE_many in the environment)."""
import collections
import datetime
import json
import os
import platform
import statistics
import sys

LAYOUTS = {
    "big": ("4 functions sharing one 256 MiB layer", 1.0),
    "many": ("12 functions, 16 MiB shared + 16 MiB each", 0.6),
}
RSS_TARGET_MIB = 64
BYTES_TARGET = 1.1


def spread(values):
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def main():
    work, out = sys.argv[1], sys.argv[2]
    times = collections.defaultdict(list)
    with open(os.path.join(work, "times.tsv")) as f:
        for line in f:
            tool, layout, round_, ms = line.rstrip("\n").split("\t")
            if round_.isdigit():  # not the warm-up or the peak-RSS run
                times[(tool, layout)].append(int(ms) / 1000)
    with open(os.path.join(work, "counts.json")) as f:
        counts = json.load(f)
    load = [open(os.path.join(work, n)).read().strip() for n in ("load.start", "load.end")]
    lines = [
        "# samrs push vs skopeo",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]} at the start, {load[1]} at the end; "
        f"samrs: `{os.environ.get('SAMRS_VERSION', '?')}`, skopeo: `{os.environ.get('SKOPEO_VERSION', '?')}`; "
        f"{len(times[('samrs', 'big')])} rounds.",
        "",
        "`bash bench/compare-push.sh`: generated OCI layouts pushed to the test emulator's registry "
        "through one byte-counting loopback relay; skopeo copies each image in turn, samrs runs a whole "
        "`samrs deploy` of a fresh stack (managed bucket and companion stack, pushes, main stack). "
        "Seconds: median (min–max). \"samrs pushes\" is the span of samrs's registry traffic inside its deploy.",
        "",
        "| layout | skopeo pushes | samrs deploy | samrs pushes | deploy/skopeo | target | met "
        "| skopeo bytes / unique | samrs bytes / unique | samrs peak RSS, MiB |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |",
    ]
    for layout, (description, target) in LAYOUTS.items():
        skopeo, samrs = times[("skopeo", layout)], times[("samrs", layout)]
        ratio = statistics.median(samrs) / statistics.median(skopeo)
        unique = int(os.environ[f"UNIQUE_{layout}"])
        rounds = [k.rsplit(".", 1)[1] for k in counts if k.startswith(f"samrs.{layout}.")]
        rounds = [r for r in rounds if r.isdigit()]

        def per_byte(tool):
            sent = [counts[f"{tool}.{layout}.{r}"]["up"] / unique for r in rounds if f"{tool}.{layout}.{r}" in counts]
            return max(sent) if sent else float("nan")

        spans = [counts[f"samrs.{layout}.{r}"]["last"] - counts[f"samrs.{layout}.{r}"]["first"] for r in rounds]
        rss_path = os.path.join(work, f"rss.{layout}")
        rss = int(open(rss_path).read().strip()) / 1024 if os.path.exists(rss_path) else float("nan")
        samrs_bytes = per_byte("samrs")
        met = ratio <= target and rss <= RSS_TARGET_MIB and samrs_bytes <= BYTES_TARGET
        lines.append(
            f"| {description} | {spread(skopeo)} | {spread(samrs)} | {spread(spans)} | {ratio:.2f} "
            f"| deploy ≤ {target:g}× skopeo, RSS ≤ {RSS_TARGET_MIB} MiB, bytes ≤ {BYTES_TARGET}× | "
            f"{'yes' if met else 'no'} | {per_byte('skopeo'):.3f} | {samrs_bytes:.3f} | {rss:.1f} |"
        )
    baseline = [layout for layout in LAYOUTS if times[("baseline", layout)]]
    if baseline:
        lines += ["", "The same rounds with an earlier samrs (`SAMRS_BASELINE_BIN`) deploying too:", "",
                  "| layout | earlier samrs deploy | its pushes | its bytes / unique | its peak RSS, MiB | this samrs deploy |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for layout in baseline:
            unique = int(os.environ[f"UNIQUE_{layout}"])
            rounds = [k.rsplit(".", 1)[1] for k in counts if k.startswith(f"baseline.{layout}.")]
            rounds = [r for r in rounds if r.isdigit()]
            spans = [counts[f"baseline.{layout}.{r}"]["last"] - counts[f"baseline.{layout}.{r}"]["first"] for r in rounds]
            sent = max(counts[f"baseline.{layout}.{r}"]["up"] / unique for r in rounds)
            rss_path = os.path.join(work, f"rss-baseline.{layout}")
            rss = int(open(rss_path).read().strip()) / 1024 if os.path.exists(rss_path) else float("nan")
            lines.append(f"| {LAYOUTS[layout][0]} | {spread(times[('baseline', layout)])} | {spread(spans)} "
                         f"| {sent:.3f} | {rss:.1f} | {spread(times[('samrs', layout)])} |")
    lines.append("")
    lines.append("Bytes: the most any round sent up through the relay (requests, headers and bodies) "
                 "over the layout's unique blob and manifest bytes.")
    text = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
