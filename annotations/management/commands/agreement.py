import json

from django.core.management.base import BaseCommand

from annotations.domain.agreement.display import methods_sentence, rows_per_code
from annotations.domain.agreement.result import AgreementResult
from annotations.management.lookup import find_project
from annotations.services.agreement import RunSettings, agreement_execute, agreement_request


class Command(BaseCommand):
    help = (
        "Compute inter-annotator agreement for a project now, through the same service the "
        "background job uses, and print it (JSON with --json)."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project name or id")
        parser.add_argument("--json", action="store_true", help="print the full results as JSON")
        parser.add_argument("--unit", choices=["token", "sentence", "char"])
        parser.add_argument("--bootstrap", type=int, default=1000, help="resamples (default 1000)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--include-in-progress",
            action="store_true",
            help="count assignments still in progress, not only those marked done",
        )

    def handle(self, *args, project, json: bool, unit, bootstrap, seed, include_in_progress, **_):
        target = find_project(project)
        run_settings = RunSettings(
            unit=unit or target.agreement_unit,
            n_bootstrap=bootstrap,
            seed=seed,
            include_in_progress=include_in_progress,
        )
        run = agreement_request(project=target, run_settings=run_settings, enqueue=False).run
        run = agreement_execute(run_id=run.pk)
        result = AgreementResult.from_json(run.results)
        if json:
            self.stdout.write(dumps({"run": run.pk, "settings": run.settings, **result.to_json()}))
            return
        self.stdout.write(summary(target, run, result))


def dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def summary(project, run, result: AgreementResult) -> str:
    lines = [f"Agreement for “{project.name}” (run {run.pk})", ""]
    header = (
        f"{'code':32} {'u_alpha':>8} {'95% CI':>17} {'alpha_u':>8} {'95% CI':>17} "
        f"{'alpha':>8} {'F1 exact':>9} {'F1 ovl':>7}"
    )
    lines.append(header)
    for row in rows_per_code(result):
        lines.append(
            f"{row.code[:32]:32} {fmt(row.u_alpha.value)} {ci(row.u_alpha.interval)} "
            f"{fmt(row.alpha_u.value)} {ci(row.alpha_u.interval)} "
            f"{fmt(row.alpha.value)} {fmt(row.f1_exact.value, 9)} {fmt(row.f1_overlap.value, 7)}"
        )
    family = result.figure("u_alpha")
    lines.append("")
    if family.value is None and family.reason:
        lines.append(f"All codes, 2016 family: {family.reason}")
    else:
        lines.append(
            f"All codes, 2016 family: u_alpha {fmt(family.value, 0)}, |u_alpha "
            f"{fmt(result.value('bu_alpha'), 0)}, cu_alpha {fmt(result.value('cu_alpha'), 0)} "
            f"(coverage {fmt(result.value('coverage'), 0)}); (k)cu_alpha: "
            + ", ".join(f"{code} {fmt(e.value, 0)}" for code, e in result.ku_alpha.items())
        )
    lines += ["", "What each coefficient rests on:"]
    for name, usage in result.usage.items():
        lines.append(
            f"  {name}: {usage.documents} documents, {usage.coders} coders, {usage.units} units"
            + (f"; {len(usage.left_out)} documents left out" if usage.left_out else "")
        )
        for left in usage.left_out[:20]:
            lines.append(f"    document {left.document_id}: {left.reason}")
        if len(usage.left_out) > 20:
            lines.append(f"    … and {len(usage.left_out) - 20} more (see --json)")
    for note in result.notes:
        lines.append(f"Note: {note}")
    lines += ["", methods_sentence(result)]
    return "\n".join(lines)


def fmt(value, width: int = 8) -> str:
    return f"{value:>{width}.3f}" if value is not None else f"{'–':>{width}}"


def ci(interval) -> str:
    if interval is None:
        return f"{'–':>17}"
    if not interval.available:
        return f"{'not available':>17}"
    return f"{interval.low:>8.3f}–{interval.high:<8.3f}"
