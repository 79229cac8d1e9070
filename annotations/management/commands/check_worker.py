import time
import uuid

from django.core.management.base import BaseCommand, CommandError

from annotations.models import WorkerCheck
from annotations.tasks import worker_check


class Command(BaseCommand):
    help = "Send a task through the broker and wait until a worker has written it to the database."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0)
        parser.add_argument("--queue", default="celery")

    def handle(self, *args, timeout, queue, **options):
        token = uuid.uuid4().hex
        worker_check.apply_async(args=[token], queue=queue)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check = WorkerCheck.objects.filter(token=token).first()
            if check is not None:
                self.stdout.write(f"Worker {check.hostname} answered on queue “{queue}”.")
                return
            time.sleep(0.2)
        raise CommandError(
            f"No worker answered on queue “{queue}” within {timeout:.0f} s: is one running "
            "and connected to the same broker and database?"
        )
