"""Run every benchmark in this package and write var/bench/report.{json,md}.

``python -m bench`` runs all of them; ``python -m bench coding_page`` only the named ones.
Benchmarks run on a fresh SQLite database under var/bench/ (never the working database).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import pkgutil
import platform
import sys
import traceback

from . import BENCH_DIR


def machine() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def discover() -> list[str]:
    package = sys.modules[__package__]
    return sorted(
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    )


def setup_django() -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    # The timed database is SQLite under var/bench/ whatever the environment points at.
    os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DIR / 'bench-main.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "framing.settings")
    import django

    django.setup()


def render_markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {m['cpu_count']} CPUs, Python {m['python']}, {m['platform']}"
        f" ({m['processor']}). Command: `make bench` (`python -m bench`).",
        "",
    ]
    goals = [
        (section.get("title", name), f)
        for name, section in sorted(report["benchmarks"].items())
        for f in section.get("figures", [])
        if f.get("target")
    ]
    if goals:
        met = sum(f["target"]["met"] for _, f in goals)
        lines += [
            f"## Targets: {met} of {len(goals)} met",
            "",
            "| Benchmark | Figure | Value | Target | Met |",
            "|---|---|---:|---|---|",
        ]
        for title, f in goals:
            value = f"{f['value']:.2f}" if isinstance(f["value"], float) else str(f["value"])
            lines.append(
                f"| {title} | {f['name']} | {value} {f['unit']} | {f['target']['text']} "
                f"| {'yes' if f['target']['met'] else '**no**'} |"
            )
        lines.append("")
    for name, section in sorted(report["benchmarks"].items()):
        lines += [f"## {section.get('title', name)}", ""]
        lines.append(f"Module `bench/{name}.py`, run {section.get('ran_at', '?')}.")
        if section.get("description"):
            lines += ["", section["description"]]
        if section.get("error"):
            lines += ["", "**Failed:**", "", "```", section["error"].rstrip(), "```", ""]
            continue
        lines += [
            "",
            "| Figure | Value | Unit | Ratio | Target | Note |",
            "|---|---:|---|---:|---|---|",
        ]
        values = {f["name"]: f["value"] for f in section.get("figures", [])}
        for f in section.get("figures", []):
            ratio = ""
            reference = values.get(f.get("ratio_to"))
            if reference:
                ratio = f"{f['value'] / reference:.2f}× {f['ratio_to']}"
            value = f["value"]
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
            target = f.get("target")
            met = "" if not target else (" ✓ met" if target["met"] else " ✗ **not met**")
            shown_target = f"{target['text']}{met}" if target else ""
            lines.append(
                f"| {f['name']} | {shown} | {f['unit']} | {ratio} | {shown_target} "
                f"| {f.get('note', '')} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    names = argv or discover()
    setup_django()
    path = BENCH_DIR / "report.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    report.setdefault("benchmarks", {})
    report["machine"] = machine()
    failures = 0
    for name in names:
        module = importlib.import_module(f"{__package__}.{name}")
        if not callable(getattr(module, "run", None)):
            continue
        print(f"bench: running {name} ...", flush=True)
        started = dt.datetime.now(dt.UTC)
        try:
            section = module.run()
        except Exception:  # one broken benchmark must not hide the others
            failures += 1
            section = {"title": name, "figures": [], "error": traceback.format_exc()}
            print(section["error"], file=sys.stderr)
        section["ran_at"] = started.isoformat(timespec="seconds")
        section["machine"] = report["machine"]
        report["benchmarks"][name] = section
        for figure in section.get("figures", []):
            print(f"  {figure['name']}: {figure['value']:.2f} {figure['unit']}")
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (BENCH_DIR / "report.md").write_text(render_markdown(report))
    print(f"bench: wrote {path} and {BENCH_DIR / 'report.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
