"""Trigram indexes for suggested duplicates (word_similarity on title and instruction), PostgreSQL only."""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

# pg_trgm folds case itself, so plain columns serve TrigramWordSimilarity("title", …) lookups.
INDEXES = [
    GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="incident_title_trgm"),
    GinIndex(fields=["instruction"], opclasses=["gin_trgm_ops"], name="incident_instruction_trgm"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for index in INDEXES:
            schema_editor.add_index(apps.get_model("incidents", "Incident"), index)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.remove_index(apps.get_model("incidents", "Incident"), index)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0005_event_actions")]
    operations = [migrations.RunPython(create, drop)]
