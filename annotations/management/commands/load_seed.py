from django.core.management.base import BaseCommand

from annotations.services.seed import load_demo, load_seed


class Command(BaseCommand):
    help = (
        "Load the seed corpus and default codebook from fixtures/ (safe to run again); "
        "--demo adds two demo coders' finished work, so agreement and review show at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="also add demo_coder_a and demo_coder_b with spans on both articles, done",
        )

    def handle(self, *args, demo: bool = False, **options):
        outcome = load_seed()
        self.stdout.write(
            f"Seed project “{outcome.project.name}”: {outcome.documents_created} document(s) "
            f"and {outcome.codes_created} code(s) added."
        )
        if demo:
            done = load_demo()
            if not done.spans_created:
                self.stdout.write(f"Demo coders {', '.join(done.coders)}: already there.")
                return
            self.stdout.write(
                f"Demo coders {', '.join(done.coders)}: {done.spans_created} span(s) added; "
                "both articles marked done, an agreement run queued. They cannot log in "
                "(give one a password with manage.py changepassword)."
            )
