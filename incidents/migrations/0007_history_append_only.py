"""The database itself refuses to change or delete incident history (PostgreSQL).

The one update allowed is the one Django makes when a user is deleted: actor set to NULL, the
copied actor_label keeping who it was.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION incidents_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.actor_id IS NULL
       AND ROW(NEW.id, NEW.incident_id, NEW.action, NEW.from_status, NEW.to_status, NEW.actor_label,
               NEW.reason, NEW.data, NEW.public, NEW.created)
           IS NOT DISTINCT FROM
           ROW(OLD.id, OLD.incident_id, OLD.action, OLD.from_status, OLD.to_status, OLD.actor_label,
               OLD.reason, OLD.data, OLD.public, OLD.created)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'incident history is append-only (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER incidents_event_append_only
BEFORE UPDATE OR DELETE ON incidents_incidentevent
FOR EACH ROW EXECUTE FUNCTION incidents_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS incidents_event_append_only ON incidents_incidentevent;
DROP FUNCTION IF EXISTS incidents_event_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0006_trigram_indexes")]
    operations = [migrations.RunPython(create, drop)]
