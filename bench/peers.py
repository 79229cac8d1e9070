"""Peers side by side: Framing, doccano 1.8.4 and Label Studio 1.23.2 on the same work.

``make bench-peers`` (or ``python -m bench peers``) runs it; plain ``make bench`` skips it
unless FRAMING_BENCH_PEERS=1, because the first run installs both peers (minutes). Each peer
lives in its own virtual environment under var/peers/, made with the machine's python3 and
reused while its requirements are unchanged; a peer that cannot be installed or started is
reported with the reason and the others go on.

All three run at once on loopback with SQLite and one gunicorn sync worker each (production
settings where the tool allows; see each tool's module), holding the same data: one article
of 50,000 code points with emoji and curly quotes and 1,000 spans by one coder, loaded
through each tool's own API (Framing: its import pipeline), plus export corpora of 10 and 100
such articles (10,000 and 100,000 spans). The client is one keep-alive HTTP connection per
tool, sending what each tool's editor sends; the tools take turns request by request, so a
busy moment of the shared machine falls on all three alike. Every figure is a ratio to
Framing's in the same run. The load average is recorded before and after.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time

from . import BENCH_DIR, goal, median, p95, peers_browser
from . import peers_data as data
from ._servers import free_port
from .peers_doccano import Doccano
from .peers_framing import Framing
from .peers_http import load_average
from .peers_labelstudio import LabelStudio

ROUNDS = int(os.environ.get("FRAMING_BENCH_PEERS_ROUNDS", "80"))
WARMUP = 5
# Articles of 1,000 spans each in the export corpora.
EXPORT_SIZES = [
    int(n) for n in os.environ.get("FRAMING_BENCH_PEERS_EXPORT_DOCS", "10,100").split(",")
]
EXPORT_REPEAT = 3  # doccano's background export runs once per size
CAP_MB = float(os.environ.get("FRAMING_BENCH_PEERS_MEMORY_CAP_GB", "8")) * 1024
TITLE = "Peers side by side: Framing, doccano, Label Studio"

REQUESTS = {
    "Framing": {
        "open": "GET /documents/<id>/code/ (the coding page, as a browser navigates to it)",
        "save": "POST /documents/<id>/spans/ with HX-Request and the open page's state token "
        "(span-create, as the page's script sends it), and its whole response: only what "
        "the write changed, as out-of-band swaps; undone after timing through its API (GET "
        "/api/v1/documents/<id>/spans, DELETE /api/v1/spans/<id>?version=…)",
        "export": "GET /projects/<id>/export/spans.jsonl (doccano-shaped JSONL in code "
        "points, streamed)",
    },
    "doccano": {
        "open": "GET /v1/projects/<p>/examples?limit=1&offset=0&q=&confirmed=&ordering= "
        "(the example and its text), then GET …/examples/<e>/spans and …/relations, in turn",
        "save": "POST …/examples/<e>/spans (UTF-16 offsets), then the re-list its page does "
        "(GET …/spans and …/relations); undone after timing by DELETE …/spans/<id>",
        "export": "POST /v1/projects/<p>/download {format: JSONL} (a Celery task), poll GET "
        "/v1/tasks/status/<t> every 0.2 s, GET …/download?taskId=<t> (a ZIP of JSONL)",
    },
    "Label Studio": {
        "open": "GET /api/tasks/<t>/?project=<p> (the task with its annotation's full result)",
        "save": "PATCH /api/annotations/<a>/ with all 1,001 regions, then the task reload its "
        "editor does (GET /api/tasks/<t>/); undone after timing by a PATCH with the 1,000",
        "export": "GET /api/projects/<p>/export?exportType=JSON_MIN&download_all_tasks=true "
        "(synchronous; JSON_MIN is its closest to doccano's JSONL: text plus a label list)",
    },
}


def wanted() -> bool:
    return os.environ.get("FRAMING_BENCH_PEERS") == "1" or "peers" in sys.argv[1:]


def skipped() -> dict:
    """Not asked for: keep the last measured section, saying when it was measured."""
    path = BENCH_DIR / "report.json"
    previous = {}
    with contextlib.suppress(OSError, ValueError, KeyError):
        previous = json.loads(path.read_text())["benchmarks"]["peers"]
    reason = (
        "Not run by plain `make bench` (installing the peers takes minutes): run "
        "`make bench-peers`, or set FRAMING_BENCH_PEERS=1."
    )
    if not previous.get("figures"):
        return {"title": TITLE, "figures": [], "description": reason}
    measured = previous.get("measured_at") or previous.get("ran_at", "?")
    previous["description"] = (
        f"Figures measured {measured}, not re-run now. {reason}\n\n"
        + previous.get("description", "").split(reason)[-1].lstrip()
    )
    return previous


def run() -> dict:
    if not wanted():
        return skipped()
    load_before = load_average()
    started = time.time()
    framing = Framing(export_sizes=EXPORT_SIZES)
    peers = [
        Doccano(export_sizes=EXPORT_SIZES, port=free_port()),
        LabelStudio(export_sizes=EXPORT_SIZES, port=free_port()),
    ]
    problems: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        tools = []
        for tool in (framing, *peers):
            try:
                tool.install()
                print(f"  {tool.name}: starting and loading …", flush=True)
                stack.enter_context(tool.running())
                tools.append(tool)
            except Exception as error:  # a peer that cannot run here is reported, not fatal
                if tool is framing:
                    raise
                problems[tool.name] = f"could not be installed or started: {error}"
        setup_s = time.time() - started
        results = measure(tools, problems)
    load_after = load_average()
    return report(framing, peers, results, problems, load_before, load_after, setup_s)


# --- Measuring ---------------------------------------------------------------------------------


def _drop(tools: list, tool, problems: dict, what: str, error: Exception) -> None:
    if tool.name == "Framing":
        raise error
    problems[tool.name] = f"failed while {what}: {type(error).__name__}: {error}"
    tools.remove(tool)


def measure(tools: list, problems: dict) -> dict:
    text = data.article()
    fresh = data.spans(text, WARMUP + ROUNDS, seed=data.SEED + 999, avoid=data.spans(text))
    out: dict = {t.name: {"open": [], "save": [], "post": [], "export": {}} for t in tools}
    out["browser"] = {}
    tools = list(tools)
    for number in range(WARMUP + ROUNDS):
        for tool in list(tools):
            try:
                began = time.perf_counter()
                out[tool.name]["open_bytes"] = tool.open()
                elapsed = (time.perf_counter() - began) * 1000
            except Exception as error:
                _drop(tools, tool, problems, "opening the document", error)
                continue
            if number >= WARMUP:
                out[tool.name]["open"].append(elapsed)
    for number in range(WARMUP + ROUNDS):
        for tool in list(tools):
            try:
                began = time.perf_counter()
                out[tool.name]["save_bytes"] = tool.save(text, fresh[number])
                elapsed = (time.perf_counter() - began) * 1000
                tool.undo()
            except Exception as error:
                _drop(tools, tool, problems, "saving a span", error)
                continue
            if number >= WARMUP:
                out[tool.name]["save"].append(elapsed)
                out[tool.name]["post"].append(tool.post_ms)
    print("  browser: navigation → spans drawn …", flush=True)
    out["browser"] = peers_browser.measure(tools, problems)
    for size in EXPORT_SIZES:
        for repeat in range(EXPORT_REPEAT):
            for tool in list(tools):
                if tool.name == "doccano" and repeat:
                    continue
                print(f"  export {size * data.SPANS:,} spans: {tool.name} …", flush=True)
                try:
                    result = tool.export(size, cap_mb=CAP_MB)
                except Exception as error:
                    _drop(tools, tool, problems, f"exporting {size * data.SPANS:,} spans", error)
                    continue
                out[tool.name]["export"].setdefault(size, []).append(result)
                if tool.name == "Label Studio":  # its native format too, as the issue quoted
                    native = tool.export(size, fmt="JSON", cap_mb=CAP_MB)
                    out[tool.name].setdefault("export_json", {}).setdefault(size, []).append(native)
    return out


# --- The report --------------------------------------------------------------------------------


def _trio(label: str, unit: str, values: dict, notes: dict) -> list[dict]:
    reference = f"Framing: {label}"
    figures = []
    for name in ("Framing", "doccano", "Label Studio"):
        if values.get(name) is None:
            continue
        figure = {"name": f"{name}: {label}", "value": round(values[name], 2), "unit": unit}
        if name != "Framing":
            figure["ratio_to"] = reference
        if notes.get(name):
            figure["note"] = notes[name]
        figures.append(figure)
    return figures


def _projection(result: dict, size: int) -> str:
    """What an export that was stopped would have needed, from a smaller one that finished
    (memory growth per span, as measured)."""
    done = [
        (smaller, run)
        for smaller, runs in sorted(result["export"].items())
        for run in runs
        if smaller < size and "error" not in run
    ]
    if not done:
        return ""
    smaller, run = done[-1]
    per_span = (run["peak_mb"] - run["start_mb"]) / (smaller * data.SPANS)
    needed = run["start_mb"] + per_span * size * data.SPANS
    return (
        f"; at {smaller * data.SPANS:,} spans its memory grew by {per_span * 1024:.0f} KB per "
        f"span, so {size * data.SPANS:,} spans would need about {needed / 1024:.0f} GB"
    )


def _export_figures(results: dict, size: int, problems: dict) -> list[dict]:
    spans = f"{size * data.SPANS:,}"
    seconds, memory, notes, memory_notes = {}, {}, {}, {}
    for name, result in results.items():
        runs = result["export"].get(size, [])
        good = [r for r in runs if "error" not in r]
        failed = [r for r in runs if "error" in r]
        if failed:
            problems.setdefault(
                f"{name}, export of {spans} spans", failed[0]["error"] + _projection(result, size)
            )
            memory[name] = max(r["peak_mb"] for r in failed)
            memory_notes[name] = f"did not finish: {failed[0]['error']}"
        if not good:
            continue
        seconds[name] = statistics.median(r["seconds"] for r in good)
        memory[name] = max(r["peak_mb"] for r in good)
        size_text = f"{good[0]['bytes'] / 1e6:.2f} MB"
        if "unzipped_bytes" in good[0]:
            size_text += f" (ZIP of {good[0]['unzipped_bytes'] / 1e6:.2f} MB of JSONL)"
        notes[name] = f"median of {len(good)}; {good[0]['spans']:,} spans in {size_text}" + (
            f"; {good[0]['busy_polls']} status polls answered 500"
            if good[0].get("busy_polls")
            else ""
        )
        memory_notes[name] = f"server processes {good[0]['start_mb']:.0f} MB before"
    native = [r for r in results.get("Label Studio", {}).get("export_json", {}).get(size, [])]
    native = [r for r in native if "error" not in r]
    extra = []
    if native and "Framing" in seconds:
        extra.append(
            {
                "name": f"Label Studio: export {spans} spans as JSON (its native format)",
                "value": round(statistics.median(r["seconds"] for r in native), 2),
                "unit": "s",
                "ratio_to": f"Framing: export {spans} spans",
                "note": f"median of {len(native)}; {native[0]['bytes'] / 1e6:.2f} MB; peak RSS "
                f"{max(r['peak_mb'] for r in native):.0f} MB",
            }
        )
    return [
        *_trio(f"export {spans} spans", "s", seconds, notes),
        *extra,
        *_trio(
            f"export {spans} spans, peak RSS of its server processes", "MB", memory, memory_notes
        ),
    ]


def report(framing, peers, results, problems, load_before, load_after, setup_s) -> dict:
    opens, saves, open_notes, save_notes = {}, {}, {}, {}
    browser = results.pop("browser", {})
    for name, result in results.items():
        if result["open"]:
            opens[name] = median(result["open"])
            open_notes[name] = (
                f"p95 {p95(result['open']):.1f} ms; {result['open_bytes'] / 1024:.0f} KiB received"
            )
        if result["save"]:
            saves[name] = median(result["save"])
            save_notes[name] = (
                f"p95 {p95(result['save']):.1f} ms; the write alone "
                f"{median(result['post']):.1f} ms; {result['save_bytes'] / 1024:.0f} KiB received"
            )
    figures = [
        *_trio("open the document (median)", "ms", opens, open_notes),
        *_trio("save one span with 1,000 present (median)", "ms", saves, save_notes),
    ]
    # The targets: Framing at least 2x faster than doccano to open, 3x to save.
    for label, values, times in (("open the document", opens, 2), ("save one span", saves, 3)):
        if values.get("Framing") and values.get("doccano"):
            framing_figure = next(f for f in figures if f["name"].startswith(f"Framing: {label}"))
            framing_figure["target"] = goal(
                values["doccano"] / values["Framing"], ">=", times, "x faster than doccano"
            )
    # And at least 2.5x ahead of each peer in the browser (the coding-page goal).
    drawn = peers_browser.figures(browser)
    framing_drawn = next((f for f in drawn if f["name"].startswith("Framing")), None)
    for figure in drawn:
        if framing_drawn is not None and figure is not framing_drawn:
            peer = figure["name"].split(":")[0]
            figure["target"] = goal(
                figure["value"] / framing_drawn["value"], ">=", 2.5, f"x Framing's ({peer})"
            )
    figures += drawn
    for size in EXPORT_SIZES:
        figures += _export_figures(results, size, problems)
    tools = {}
    for tool in (framing, *peers):
        tools[tool.name] = {
            "version": getattr(tool, "version", "not installed"),
            "server": tool.server,
            "requests": REQUESTS[tool.name],
            "checks": getattr(tool, "checks", {}),
            "loading": getattr(tool, "notes", {}),
        }
        if tool.name in problems:
            tools[tool.name]["problem"] = problems[tool.name]
    return {
        "title": TITLE,
        "description": describe(tools, problems, load_before, load_after, setup_s),
        "figures": figures,
        "tools": tools,
        "problems": problems,
        "load_average": {"before": load_before, "after": load_after},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def describe(tools: dict, problems: dict, load_before: str, load_after: str, setup_s: float) -> str:
    lines = [
        f"Same data in each tool: one article of {data.ARTICLE_CODE_POINTS:,} code points "
        f"(emoji, a ZWJ sequence, a flag, curly quotes) with {data.SPANS:,} spans by one coder; "
        f"export corpora of {', '.join(f'{s * data.SPANS:,}' for s in EXPORT_SIZES)} spans "
        f"(articles of {data.SPANS:,} spans). Medians of {ROUNDS} requests per tool after "
        f"{WARMUP} warm-up rounds, the tools taking turns; exports repeated {EXPORT_REPEAT}× "
        f"(doccano once). Client-side wall time over HTTP on loopback. Memory: resident set of "
        f"the tool's server processes (gunicorn master + worker; doccano adds its Celery "
        f"worker), sampled every 50 ms; a tool passing {CAP_MB / 1024:.0f} GB is stopped "
        f"(FRAMING_BENCH_PEERS_MEMORY_CAP_GB). Load average (1/5/15 min) before: {load_before}; "
        f"after: {load_after} (2 shared cores). Set-up and loading took {setup_s:.0f} s.",
        "",
    ]
    for name, tool in tools.items():
        lines.append(f"- **{name}** {tool['version']}; {tool['server']}.")
        for what, request in tool["requests"].items():
            lines.append(f"  - {what}: {request}")
        if tool["checks"]:
            checks = "; ".join(f"{k}: {v}" for k, v in tool["checks"].items())
            lines.append(f"  - stored data checked: {checks}")
        if tool["loading"]:
            lines.append("  - " + "; ".join(f"{k}: {v}" for k, v in tool["loading"].items()))
    if problems:
        lines += ["", "Problems:"] + [f"- {k}: {v}" for k, v in problems.items()]
    return "\n".join(lines)
