from django.core.management.base import BaseCommand

from annotations.services.seed import load_seed


class Command(BaseCommand):
    help = "Load the seed corpus and default codebook from fixtures/ (safe to run again)."

    def handle(self, *args, **options):
        outcome = load_seed()
        self.stdout.write(
            f"Seed project “{outcome.project.name}”: {outcome.documents_created} document(s) "
            f"and {outcome.codes_created} code(s) added."
        )
