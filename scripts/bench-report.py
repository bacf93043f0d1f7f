#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the benchmark guest's console log into figures.

Reads the "CKPT-BENCH" and "CKPT-BENCH-CHECK" lines that
tests/bench/guest/bench.sh prints, and writes into --out:
  raw.csv      one row per measurement
  summary.csv  per workload and method: repetitions, median/min/max seconds,
               ratio to the copy limit and to ckpt, downtime, bytes, pages,
               kernel memory
  bench.png    the plot (gnuplot): scaling, and each method against ckpt
  table.md     the table printed below, as Markdown
and prints the table, the correctness checks and the goals, each met or not.
Exit status: 0 if every measurement ran and every check passed (whether the
goals were met or not), 1 otherwise.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import time

METHODS = ["ckpt", "copy", "splice", "udump", "criu", "seed", "restore", "readin"]
# Restore's rows are set against restore's own copy limit: reading the
# image into fresh anonymous memory.
RESTORE_METHODS = ("restore", "readin")
METHOD_NAMES = {
    "ckpt": "ckpt dump",
    "copy": "copy limit: write(2)",
    "splice": "copy limit: vmsplice+splice",
    "udump": "userspace: pagemap + process_vm_readv",
    "criu": "CRIU 3.17 dump --leave-running",
    "seed": "seed's way: fault every page in",
    "restore": "ckpt restore (of ckpt's image)",
    "readin": "restore's copy limit: read(2) into new memory",
}
WORKLOADS = ["dense", "sparse", "sparse-ref", "vmas", "vmas-ref", "filecow",
             "dense-64", "dense-128", "dense-256", "dense-1024"]
SCALING = [("dense-64", 64), ("dense-128", 128), ("dense-256", 256),
           ("dense", 512), ("dense-1024", 1024)]
KMEM_LIMIT = 256 * 1024
VMAS = 20000


def parse_log(path):
    rows, checks, notes = [], [], []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("CKPT-BENCH "):
                rows.append(fields(line.split()[1:]))
            elif line.startswith("CKPT-BENCH-CHECK "):
                words = line.split()
                check = fields(words[1:4])
                check["detail"] = " ".join(words[4:])
                checks.append(check)
            elif line.startswith("# "):
                notes.append(line[2:])
    return rows, checks, notes


def fields(words):
    out = {}
    for word in words:
        key, _, value = word.partition("=")
        out[key] = value
    return out


def num(row, key):
    value = row.get(key, "")
    return int(value) if value.isdigit() else None


class Stat:
    """Median, min and max of one figure over the repetitions."""

    def __init__(self, values):
        self.values = [v for v in values if v is not None]
        self.n = len(self.values)

    def __bool__(self):
        return self.n > 0

    @property
    def median(self):
        return statistics.median(self.values)

    @property
    def lo(self):
        return min(self.values)

    @property
    def hi(self):
        return max(self.values)


def seconds(ns):
    return ns / 1e9


def fmt_s(value):
    if value >= 10:
        return f"{value:.1f} s"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 0.001:
        return f"{value * 1000:.0f} ms" if value >= 0.1 else f"{value * 1000:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def fmt_bytes(n):
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


class Bench:
    def __init__(self, rows):
        self.rows = rows
        self.by = {}
        for row in rows:
            self.by.setdefault((row["workload"], row.get("method", "")), []).append(row)

    def runs(self, workload, method):
        return [r for r in self.by.get((workload, method), []) if r.get("failed") != "1"]

    def stat(self, workload, method, key="ns"):
        return Stat(num(r, key) for r in self.runs(workload, method))

    def time(self, workload, method):
        """Median seconds of a method, or None if it did not run."""
        st = self.stat(workload, method)
        return seconds(st.median) if st else None

    def floor(self, workload):
        """The copy limit: the faster of the two ways to copy the bytes."""
        times = [t for t in (self.time(workload, m) for m in ("copy", "splice")) if t]
        return min(times) if times else None

    def floor_for(self, workload, method):
        """The copy limit a method is set against."""
        if method in RESTORE_METHODS:
            return self.time(workload, "readin")
        return self.floor(workload)

    def failed(self):
        return [r for r in self.rows if r.get("failed") == "1"]


def summary_rows(bench):
    out = []
    for workload in WORKLOADS:
        ckpt = bench.time(workload, "ckpt")
        for method in METHODS:
            st = bench.stat(workload, method)
            if not st:
                continue
            floor = bench.floor_for(workload, method)
            runs = bench.runs(workload, method)
            last = runs[-1]
            med = seconds(st.median)
            down = bench.stat(workload, method, "downtime_ns")
            if method == "criu":
                down = Stat(num(r, "frozen_us") * 1000 if num(r, "frozen_us") is not None else None
                            for r in runs)
            out.append({
                "workload": workload,
                "method": method,
                "reps": st.n,
                "median_s": f"{med:.6f}",
                "min_s": f"{seconds(st.lo):.6f}",
                "max_s": f"{seconds(st.hi):.6f}",
                "vs_copy_limit": f"{med / floor:.3f}" if floor else "",
                "vs_ckpt": f"{med / ckpt:.3f}" if ckpt else "",
                "downtime_median_s": f"{seconds(down.median):.6f}" if down else "",
                "data_bytes": last.get("data_bytes", ""),
                "image_bytes": last.get("image_bytes", ""),
                "pages_written": last.get("pages", last.get("pages_written", "")),
                "pages_scanned": last.get("pages_scanned", ""),
                "peak_kmem_max": max(bench.stat(workload, method, "peak_kmem").values, default=""),
                "mb_per_s": f"{int(last['data_bytes']) / med / 1e6:.1f}" if last.get("data_bytes") else "",
            })
    return out


def table(bench, summary):
    lines = [
        "| workload | method | time: median (min–max) | ÷ copy limit | ÷ ckpt | downtime | image / data bytes | pages scanned / written | peak kmem |",
        "|---|---|---|---:|---:|---:|---|---|---:|",
    ]
    for s in summary:
        st = bench.stat(s["workload"], s["method"])
        image = int(s["image_bytes"]) if s["image_bytes"] else 0
        data = int(s["data_bytes"]) if s["data_bytes"] else 0
        ratio = f"{fmt_bytes(image)} / {fmt_bytes(data)} ({image / data:.3f})" if image and data else ""
        pages = f"{s['pages_scanned']} / {s['pages_written']}" if s["pages_scanned"] else ""
        lines.append("| {} | {} | {} ({}–{}) | {} | {} | {} | {} | {} | {} |".format(
            s["workload"], METHOD_NAMES[s["method"]], fmt_s(float(s["median_s"])),
            fmt_s(seconds(st.lo)), fmt_s(seconds(st.hi)),
            f"{float(s['vs_copy_limit']):.2f}" if s["vs_copy_limit"] else "",
            f"{float(s['vs_ckpt']):.2f}" if s["vs_ckpt"] else "",
            fmt_s(float(s["downtime_median_s"])) if s["downtime_median_s"] else "",
            ratio, pages, fmt_bytes(s["peak_kmem_max"]) if s["peak_kmem_max"] != "" else ""))
    return lines


PHASES = [("vma_ns", "VMAs"), ("scan_ns", "scan"), ("copy_ns", "copy + checksum"),
          ("write_ns", "write pages")]


def phases(bench):
    """Where ckpt dump's ioctl spends its time (the module's own clocks)."""
    lines = ["", "Where ckpt dump's time goes (medians; the module's --stats; "
             "\"other\" is the rest of the ioctl: the other records, holding the target):", "",
             "| workload | ioctl | " + " | ".join(name for _, name in PHASES) + " | other |",
             "|---|---:|" + "---:|" * (len(PHASES) + 1)]
    for workload in WORKLOADS:
        ioctl = bench.stat(workload, "ckpt", "ioctl_ns")
        parts = [bench.stat(workload, "ckpt", key) for key, _ in PHASES]
        if not ioctl or not all(parts):
            continue
        total = ioctl.median
        cells = [f"{fmt_s(seconds(p.median))} ({p.median / total:.0%})" for p in parts]
        other = total - sum(p.median for p in parts)
        lines.append(f"| {workload} | {fmt_s(seconds(total))} | " + " | ".join(cells) +
                     f" | {fmt_s(seconds(max(other, 0)))} ({max(other, 0) / total:.0%}) |")
    return lines if len(lines) > 5 else []


def fit_line(points):
    """Least squares t = a + b * x; returns a, b, worst relative deviation."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    a = my - b * mx
    worst = max(abs(y - (a + b * x)) / y for x, y in points)
    return a, b, worst


def goals(bench):
    """Each goal: (name, met or None when not measurable, what was measured)."""
    out = []
    ckpt, floor = bench.time("dense", "ckpt"), bench.floor("dense")
    if ckpt and floor:
        r = ckpt / floor
        out.append(("dense: ckpt dump within 1.1x of the copy limit", r <= 1.1,
                    f"{r:.2f}x ({fmt_s(ckpt)} vs {fmt_s(floor)})"))
    for method in ("udump", "criu"):
        other = bench.time("dense", method)
        if ckpt and other:
            r = other / ckpt
            out.append((f"dense: ckpt dump at least 1.3x faster than {METHOD_NAMES[method]}", r >= 1.3,
                        f"{r:.2f}x ({fmt_s(other)} vs {fmt_s(ckpt)})"))
        elif ckpt:
            out.append((f"dense: ckpt dump at least 1.3x faster than {METHOD_NAMES[method]}", None,
                        "not measured"))
    restore, readin = bench.time("dense", "restore"), bench.time("dense", "readin")
    if restore and readin:
        r = restore / readin
        out.append(("dense: ckpt restore within 1.5x of its copy limit (the image read into new memory)", r <= 1.5,
                    f"{r:.2f}x ({fmt_s(restore)} vs {fmt_s(readin)})"))
    sparse, ref = bench.time("sparse", "ckpt"), bench.time("sparse-ref", "ckpt")
    if sparse and ref:
        r = sparse / ref
        out.append(("sparse: 64 GiB reservation within 1.2x of the 16-MiB-only target", r <= 1.2,
                    f"{r:.2f}x ({fmt_s(sparse)} vs {fmt_s(ref)})"))
    many, one = bench.time("vmas", "ckpt"), bench.time("vmas-ref", "ckpt")
    page_floor = bench.floor("vmas-ref")
    pages = bench.stat("vmas-ref", "ckpt", "pages")
    if many and one and page_floor and pages:
        per_vma = (many - one) / VMAS
        per_page = page_floor / pages.median
        # The part of it that is writing more bytes: each one-page VMA's
        # PAGES record pads its contents to a page boundary.
        extra = bench.stat("vmas", "ckpt", "image_bytes").median - bench.stat("vmas-ref", "ckpt", "image_bytes").median
        padding = extra * (page_floor / bench.stat("vmas-ref", "ckpt", "image_bytes").median) / VMAS
        out.append(("many VMAs: per-VMA overhead under the cost of one page copy", per_vma < per_page,
                    f"{fmt_s(per_vma)} per VMA vs {fmt_s(per_page)} per page copied; of the {fmt_s(per_vma)}, "
                    f"{fmt_s(padding)} is copying the {fmt_bytes(extra / VMAS)} more image bytes per VMA "
                    f"(alignment padding and records) at the copy limit's rate"))
    kmem = [num(r, "peak_kmem") for r in bench.rows if r.get("method") == "ckpt" and num(r, "peak_kmem")]
    if kmem:
        out.append(("kernel memory per dump at most 256 KiB, whatever the target size", max(kmem) <= KMEM_LIMIT,
                    f"largest peak {fmt_bytes(max(kmem))} over {len(kmem)} dumps of 16 MiB to 64 GiB targets"))
    points = [(mib, bench.time(w, "ckpt")) for w, mib in SCALING]
    points = [(x, y) for x, y in points if y]
    floors = [(mib, bench.floor(w)) for w, mib in SCALING]
    floors = [(x, y) for x, y in floors if y]
    if len(points) >= 3:
        a, b, worst = fit_line(points)
        noise = ""
        if len(floors) == len(points):
            noise = f"; the copy limit's own largest deviation from its line: {fit_line(floors)[2] * 100:.1f}%"
        out.append(("scaling: time linear in data size", worst <= 0.10,
                    f"slope {b * 1024:.2f} s/GiB ({1 / b:.0f} MiB/s), intercept {fmt_s(abs(a))}"
                    f"{' (negative)' if a < 0 else ''}, largest deviation from the fit {worst * 100:.1f}%"
                    f" (met: at most 10%){noise}"))
    return out


def write_csv(path, rows, keys=None):
    keys = keys or sorted({k for r in rows for k in r})
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def plot(bench, out, title):
    """Left: scaling of ckpt and the copy limit; right: methods vs ckpt."""
    scale = os.path.join(out, "scaling.dat")
    with open(scale, "w") as f:
        f.write("# MiB ckpt_med ckpt_min ckpt_max floor_med\n")
        for workload, mib in SCALING:
            st = bench.stat(workload, "ckpt")
            floor = bench.floor(workload)
            if st and floor:
                f.write(f"{mib} {seconds(st.median)} {seconds(st.lo)} {seconds(st.hi)} {floor}\n")
    bars = os.path.join(out, "methods.dat")
    shown = ["dense", "sparse", "vmas", "filecow"]
    with open(bars, "w") as f:
        f.write("# workload " + " ".join(METHODS) + "\n")
        for workload in shown:
            ckpt = bench.time(workload, "ckpt")
            cells = []
            for method in METHODS:
                t = bench.time(workload, method)
                if method in ("copy", "splice"):
                    t = bench.floor(workload) if method == "copy" else None
                cells.append(f"{t / ckpt:.4f}" if t and ckpt else "NaN")
            f.write(f"{workload} " + " ".join(cells) + "\n")
    script = f"""
set terminal pngcairo noenhanced size 1400,560 font "DejaVu Sans,11"
set output "{os.path.join(out, 'bench.png')}"
set multiplot layout 1,2 title "{title}"
set title "Scaling: dense private memory (median, min-max bars)"
set xlabel "data (MiB)"
set ylabel "seconds"
set key top left
set grid
set xrange [0:1100]
set xtics 128
set yrange [0:*]
plot "{scale}" using 1:2:3:4 with yerrorlines lw 2 pt 7 title "ckpt dump", \\
     "{scale}" using 1:5 with linespoints lw 2 pt 5 dt 2 title "copy limit"
set title "Time relative to ckpt dump (1 = ckpt; lower is faster)"
set xlabel ""
set ylabel "median time / ckpt's median time"
set xrange [*:*]
set xtics autofreq
set yrange [0:*]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics nomirror
set key top left
plot "{bars}" using 2:xtic(1) title "ckpt dump", \\
     "" using 3 title "copy limit", \\
     "" using 5 title "userspace (pagemap + process_vm_readv)", \\
     "" using 6 title "CRIU 3.17", \\
     "" using 7 title "seed's way (fault everything)", \\
     1 with lines lc rgb "black" dt 2 notitle
unset multiplot
"""
    gp = os.path.join(out, "bench.gp")
    with open(gp, "w") as f:
        f.write(script)
    try:
        subprocess.run(["gnuplot", gp], check=True)
        return True
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"bench-report: no plot: {err}", file=sys.stderr)
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", required=True, help="the guest's console log")
    ap.add_argument("--out", required=True, help="directory for the CSV, table and plot")
    ap.add_argument("--kernel", default="?", help="guest kernel release, for the title")
    ap.add_argument("--host", default="", help="host description, for the title")
    args = ap.parse_args()

    rows, checks, notes = parse_log(args.log)
    if not rows:
        print(f"bench-report: no measurements in {args.log}", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    bench = Bench(rows)
    summary = summary_rows(bench)
    write_csv(os.path.join(args.out, "raw.csv"), rows)
    write_csv(os.path.join(args.out, "summary.csv"), summary, list(summary[0].keys()))

    date = time.strftime("%Y-%m-%d")
    title = f"ckpt benchmark, {date}, Linux {args.kernel} in QEMU ({args.host})"
    lines = [f"{title}", ""]
    lines += [f"    {n}" for n in notes if n.startswith(("ckpt bench", "Version"))]
    lines.append("")
    lines += table(bench, summary)
    lines += phases(bench)
    crc = [r for r in bench.runs("calibrate", "crc") if num(r, "table_ns")]
    if crc:
        insns = [num(r, "insn_ns") for r in crc if num(r, "insn_ns")]
        tab = statistics.median(num(r, "table_ns") for r in crc)
        size = num(crc[0], "bytes")
        # A CPU model without SSE4.2 (qemu64) has no crc32 instruction.
        hw = (f"{size / statistics.median(insns) * 1e9 / 1e6:.0f} MB/s with the crc32 instruction"
              if insns else "no crc32 instruction")
        lines += ["", f"CRC-32C in this guest: {hw}, "
                  f"{size / tab * 1e9 / 1e6:.0f} MB/s with slice-by-8 tables (median of {len(crc)})."]
        xxh = [num(r, "xxh64_ns") for r in crc if num(r, "xxh64_ns")]
        if xxh:
            chose = crc[0].get("module_checksum", "?")
            lines.append(f"XXH64 in this guest: {size / statistics.median(xxh) * 1e9 / 1e6:.0f} MB/s; "
                         f"the module chose {chose} at load (CRC-32C unless it costs over 1.5 times XXH64).")
    lines += ["", "Goals:"]
    for name, met, measured in goals(bench):
        mark = "n/a" if met is None else ("MET" if met else "NOT MET")
        lines.append(f"- {name}: {mark}: {measured}")
    bad = [c for c in checks if c.get("ok") != "1"]
    lines += ["", f"Correctness checks of the dumps: {len(checks) - len(bad)} passed, {len(bad)} failed"]
    for c in bad:
        lines.append(f"- FAILED {c['workload']}/{c['what']}: {c['detail']}")
    for r in bench.failed():
        lines.append(f"- FAILED measurement {r['workload']}/{r.get('method')} rep {r.get('rep')}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    print(text)
    plotted = plot(bench, args.out, title)
    print(f"bench-report: wrote {args.out}/raw.csv, summary.csv, table.md"
          + (", bench.png" if plotted else ""))
    return 0 if not bad and not bench.failed() else 1


if __name__ == "__main__":
    sys.exit(main())
