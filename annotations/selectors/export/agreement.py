"""Rows of agreement.csv: the latest finished agreement run's figures, flattened."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ...models import AgreementRun, Project, RunStatus
from .reads import _code_names
from .spec import ExportSpec, _neutraliser, coder_labels

AGREEMENT_FILE = "agreement.csv"
AGREEMENT_COLUMNS = ("metric", "code", "scope", "value", "ci_low", "ci_high", "run", "computed")


def latest_agreement_run(project: Project) -> AgreementRun | None:
    return (
        AgreementRun.objects.filter(project=project, status=RunStatus.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )


_CODER_KEY = re.compile(r"u(\d+)")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def flatten_agreement(results: Any, code_names: set[str]) -> Iterator[dict[str, Any]]:
    """Rows of (metric, code, scope, value, ci_low, ci_high) from a stored results document.

    A ``"rows"`` list of such dicts is used as it is. Otherwise nested dicts and lists are
    walked: every number is a row named by its key (``metric``), with the codebook code
    met on its path as ``code`` and the rest of the path as ``scope`` ("/"-joined); a
    sibling ``<metric>_ci`` (or a ``ci`` / ``ci_low`` + ``ci_high`` beside ``value``) gives
    the interval. Strings, booleans and other lists are not agreement figures and are left
    out; the run's full JSON stays available in the database and the agreement command.
    """
    if isinstance(results, dict) and isinstance(results.get("rows"), list):
        for row in results["rows"]:
            if isinstance(row, dict):
                yield {key: row.get(key) for key in AGREEMENT_COLUMNS[:6]}
        return
    yield from _walk(results, [], None, code_names)


def _interval(value: Any) -> tuple[Any, Any]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    return None, None


def _walk(node: Any, path: list[str], code: str | None, code_names: set[str]):
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, [*path, str(index)], code, code_names)
        return
    if not isinstance(node, dict):
        return
    # A record naming its own code or metric ({"code": "X", "alpha": 0.7, ...}).
    if isinstance(node.get("code"), str):
        code = node["code"]
        if path and path[-1].isdigit():
            path = path[:-1]
    if "value" in node and (_is_number(node["value"]) or node["value"] is None):
        low, high = _interval(node.get("ci"))
        yield {
            "metric": node.get("metric") or (path[-1] if path else "value"),
            "code": code,
            "scope": node.get("scope") or "/".join(path[:-1]),
            "value": node["value"],
            "ci_low": node.get("ci_low", low),
            "ci_high": node.get("ci_high", high),
        }
        return
    for key, value in node.items():
        key = str(key)
        if key.endswith("_ci") and key[:-3] in node:
            continue  # written with its metric below
        if _is_number(value) or (value is None and f"{key}_ci" in node):
            low, high = _interval(node.get(f"{key}_ci"))
            yield {
                "metric": key,
                "code": code,
                "scope": "/".join(path),
                "value": value,
                "ci_low": low,
                "ci_high": high,
            }
        elif isinstance(value, dict | list):
            if key in code_names and code is None:
                yield from _walk(value, path, key, code_names)
            else:
                yield from _walk(value, [*path, key], code, code_names)


def agreement_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    run = latest_agreement_run(project)
    if run is None or not run.results:
        return
    labels = coder_labels(project, names=spec.names)
    guard = _neutraliser(spec)
    codes = set(_code_names(project).values())

    def person(match: re.Match) -> str:
        return labels.get(int(match.group(1)), match.group(0))

    for row in flatten_agreement(run.results, codes):
        # Stored results name coders "u<id>"; show them as everywhere else in the export.
        scope = _CODER_KEY.sub(person, str(row.get("scope") or ""))
        yield {
            "metric": guard(str(row.get("metric") or "")),
            "code": row.get("code"),
            "scope": guard(scope),
            "value": row.get("value"),
            "ci_low": row.get("ci_low"),
            "ci_high": row.get("ci_high"),
            "run": run.pk,
            "computed": run.finished_at,
        }
