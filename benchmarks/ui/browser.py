#!/usr/bin/env python3
"""The UI benchmark's browser side (benchmarks/ui/run.sh): Debian's Chromium, headless, driven by
Playwright, opens the same run's sample list in Airlock's web UI and in Inspect View.

Each trial launches a fresh browser (empty cache, one tab, 1280x900) and measures, for a tool:
  first_row_s   navigation start to the first sample row on screen: the row's element in the
                document (seen by a MutationObserver installed before any of the page's scripts)
                and then one animation frame, read from performance.now() (0 = navigation start);
  pss_bytes     the browser's memory two seconds later: PSS summed over its processes (the
                browser, zygotes, renderer, GPU and utility processes) from /proc/PID/smaps_rollup;
  js_heap_bytes the page's JavaScript heap then (CDP Runtime.getHeapUsage, usedSize);
  filter_s      a score filter (exact == 1): Airlock, the form's score range filled and Show
                clicked, to the first row of the filtered page on screen; Inspect View, the
                expression put into its filter box, to its footer counting the matching samples;
  *_after_filter the memory and heap once the filtered list is shown.
The median of the trials is reported per measure, with every trial's figures; and, as the floor
under both, a fresh browser's PSS with one blank tab (median of as many trials).
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import time
import uuid

from playwright.sync_api import sync_playwright

ROW = {
    "airlock": "table tbody tr td a[href*='/samples/']",
    # Inspect View's sample list is a virtual grid: each sample a link with role=row.
    "inspect": "a[role='row'][href*='/samples/sample/']",
}

# Records when the first element matching window.__benchRow appears, and the frame after it.
OBSERVER = """
(() => {
  const selector = %s;
  window.__bench = {};
  const seen = () => {
    const el = document.querySelector(selector);
    if (!el || window.__bench.found) return false;
    window.__bench.found = performance.now();
    requestAnimationFrame(() => { window.__bench.painted = performance.now(); });
    return true;
  };
  const observer = new MutationObserver(() => { if (seen()) observer.disconnect(); });
  observer.observe(document, {childList: true, subtree: true});
})();
"""


def processes_under(root):
    """PIDs of root and all its descendants, from /proc/*/stat."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def browser_pid(marker):
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if marker.encode() in args and not any(a.startswith(b"--type=") for a in args):
            return int(name)
    raise SystemExit("browser.py: cannot find the browser's process")


def pss(root):
    total, count = 0, 0
    for pid in processes_under(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        count += 1
                        break
        except OSError:
            pass
    return total, count


def heap(page):
    cdp = page.context.new_cdp_session(page)
    try:
        return cdp.send("Runtime.getHeapUsage")["usedSize"]
    finally:
        cdp.detach()


def wait_painted(page, timeout_s):
    page.wait_for_function("() => window.__bench && window.__bench.painted", timeout=timeout_s * 1000, polling=50)
    return page.evaluate("window.__bench")


def trial(playwright, chromium, tool, args, data):
    marker = f"--ui-bench-marker={uuid.uuid4()}"
    browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", marker])
    try:
        root = browser_pid(marker)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        if tool == "airlock":
            context.add_cookies([{"name": "airlock_session", "value": args.cookie, "url": args.airlock}])
            url = f"{args.airlock}/runs/{args.run}/samples"
        else:
            url = f"{args.inspect}/"
        page = context.new_page()
        page.add_init_script(OBSERVER % json.dumps(ROW[tool]))
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=args.timeout * 1000)
        bench = wait_painted(page, args.timeout)
        wall = time.perf_counter() - t0
        if tool == "inspect":
            # One log in the folder: Inspect View opens it, and shows its samples.
            if "/samples" not in page.url and "ui-bench.eval" not in page.url:
                raise SystemExit(f"Inspect View did not open the log: {page.url}")
        page.wait_for_timeout(2000)
        result = {"first_row_s": bench["painted"] / 1000, "first_row_in_dom_s": bench["found"] / 1000, "first_row_wall_s": wall}
        result["pss_bytes"], result["processes"] = pss(root)
        result["js_heap_bytes"] = heap(page)
        rows = page.locator(ROW[tool]).count()
        result["rows_rendered"] = rows

        # The score filter: exact == 1.
        want = data["score_1"]
        if tool == "airlock":
            page.fill("#score_min", "1")
            page.fill("#score_max", "1")
            page.evaluate("window.__bench = null")
            t0 = time.perf_counter()
            page.click("form.filters button[type=submit]")
            page.wait_for_url("**score_min=1**", wait_until="commit", timeout=args.timeout * 1000)
            bench = wait_painted(page, args.timeout)
            # Navigation start of the filtered page is after the click; add the click's share.
            result["filter_s"] = time.perf_counter() - t0
            result["filter_page_s"] = bench["painted"] / 1000
            shown = page.locator(ROW[tool]).count()
            if shown != min(100, want):
                raise SystemExit(f"Airlock's filtered page shows {shown} rows, expected {min(100, want)}")
        else:
            footer = "[class*='_footer_']"
            page.click(".sample-filter-label ~ div .cm-content")
            expected = f"{want} / {data['samples']} Samples"
            t0 = time.perf_counter()
            page.keyboard.insert_text("exact == 1")
            page.wait_for_function(
                "([sel, text]) => { const f = document.querySelector(sel); return f && f.innerText.includes(text); }",
                arg=[footer, expected], timeout=args.timeout * 1000, polling="raf")
            page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
            result["filter_s"] = time.perf_counter() - t0
        page.wait_for_timeout(1000)
        result["pss_after_filter_bytes"], _ = pss(root)
        result["js_heap_after_filter_bytes"] = heap(page)
        return result
    finally:
        browser.close()


def blank(playwright, chromium):
    """A fresh browser with one blank tab: the floor under both tools' memory."""
    marker = f"--ui-bench-marker={uuid.uuid4()}"
    browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", marker])
    try:
        root = browser_pid(marker)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto("about:blank")
        page.wait_for_timeout(2000)
        total, count = pss(root)
        return {"pss_bytes": total, "processes": count, "js_heap_bytes": heap(page)}
    finally:
        browser.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", default="airlock,inspect")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--airlock", required=True)
    parser.add_argument("--cookie", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--inspect", required=True)
    parser.add_argument("--log", default="ui-bench.eval")
    parser.add_argument("--data", required=True)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    data = json.load(open(args.data))
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("browser.py: no chromium on PATH")
    report = {"trials": args.trials, "tools": {}, "runs": {}}
    with sync_playwright() as playwright:
        blanks = [blank(playwright, chromium) for _ in range(args.trials)]
        report["blank"] = {key: statistics.median(r[key] for r in blanks) for key in blanks[0]}
        print(f"[ui-bench] blank tab: PSS {report['blank']['pss_bytes'] / 2**20:.0f} MiB", file=sys.stderr, flush=True)
        for tool in args.tools.split(","):
            runs = []
            for k in range(args.trials):
                r = trial(playwright, chromium, tool, args, data)
                runs.append(r)
                print(f"[ui-bench] {tool} trial {k + 1}: first row {r['first_row_s']:.3f} s, filter {r['filter_s']:.3f} s, "
                      f"PSS {r['pss_bytes'] / 2**20:.0f} MiB ({r['processes']} processes), heap {r['js_heap_bytes'] / 2**20:.1f} MiB, "
                      f"after filter PSS {r['pss_after_filter_bytes'] / 2**20:.0f} MiB", file=sys.stderr, flush=True)
            report["runs"][tool] = runs
            report["tools"][tool] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
