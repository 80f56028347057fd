"""Replay dead-lettered tasks: ``parley manage replay_dead_letters [--task NAME] [--id ID ...] [--dry-run]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from parley.core.actions import replay_dead_letter
from parley.core.models import DeadLetter


class Command(BaseCommand):
    help = "Send pending dead-lettered tasks again (all, by task name, or by id)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--task", help="Only letters of this task name.")
        parser.add_argument("--id", action="append", default=[], help="Only these dead-letter ids (repeatable).")
        parser.add_argument("--dry-run", action="store_true", help="List what would be replayed.")

    def handle(self, *args: Any, **options: Any) -> None:
        letters = DeadLetter.objects.filter(status=DeadLetter.Status.PENDING).order_by("created_at")
        if options["task"]:
            letters = letters.filter(task_name=options["task"])
        if options["id"]:
            letters = letters.filter(id__in=options["id"])
        count = 0
        for letter in letters:
            if options["dry_run"]:
                self.stdout.write(f"would replay {letter.id} {letter.task_name} {letter.args} ({letter.error[:80]})")
            else:
                task_id = replay_dead_letter(letter)
                self.stdout.write(f"replayed {letter.id} {letter.task_name} as task {task_id}")
            count += 1
        self.stdout.write(self.style.SUCCESS(f"{count} dead letter(s) {'to replay' if options['dry_run'] else 'replayed'}"))
