"""A database trigger that refuses any change to a stored document's text.

The model refuses it too, but a trigger also stops ``QuerySet.update()``, raw SQL and
anything else that bypasses ``save()``: every offset ever recorded points into this text.
"""

from django.db import migrations

SQLITE_CREATE = """
CREATE TRIGGER annotations_document_text_immutable
BEFORE UPDATE OF text ON annotations_document
WHEN NEW.text IS NOT OLD.text
BEGIN
    SELECT RAISE(ABORT, 'document text is immutable');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS annotations_document_text_immutable;"

POSTGRES_CREATE = """
CREATE OR REPLACE FUNCTION annotations_document_text_immutable() RETURNS trigger AS $$
BEGIN
    IF NEW.text IS DISTINCT FROM OLD.text THEN
        RAISE EXCEPTION 'document text is immutable';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER annotations_document_text_immutable
BEFORE UPDATE ON annotations_document
FOR EACH ROW EXECUTE FUNCTION annotations_document_text_immutable();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS annotations_document_text_immutable ON annotations_document;
DROP FUNCTION IF EXISTS annotations_document_text_immutable();
"""


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)


class Migration(migrations.Migration):
    dependencies = [("annotations", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
