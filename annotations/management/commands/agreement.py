import json

from django.core.management.base import BaseCommand

from annotations.domain.agreement.display import methods_sentence, rows_per_code
from annotations.management.commands.import_documents import find_project
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
        run = agreement_request(project=target, run_settings=run_settings, enqueue=False)
        run = agreement_execute(run_id=run.pk)
        if json:
            self.stdout.write(dumps({"run": run.pk, "settings": run.settings, **run.results}))
            return
        self.stdout.write(summary(target, run))


def dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def summary(project, run) -> str:
    lines = [f"Agreement for “{project.name}” (run {run.pk})", ""]
    header = f"{'code':32} {'alpha_u':>8} {'95% CI':>17} {'alpha':>8} {'F1 exact':>9} {'F1 ovl':>7}"
    lines.append(header)
    for row in rows_per_code(run.results):
        lines.append(
            f"{row['code'][:32]:32} {fmt(row['alpha_u'])} {ci(row['alpha_u_ci'])} "
            f"{fmt(row['alpha'])} {fmt(row['f1_exact'], 9)} {fmt(row['f1_overlap'], 7)}"
        )
    lines += ["", methods_sentence(run.results)]
    return "\n".join(lines)


def fmt(value, width: int = 8) -> str:
    return f"{value:>{width}.3f}" if value is not None else f"{'–':>{width}}"


def ci(interval) -> str:
    if not interval or interval[0] is None:
        return f"{'–':>17}"
    return f"{interval[0]:>8.3f}–{interval[1]:<8.3f}"
