"""The database itself refuses to UPDATE a preference statement.

DELETE is not blocked here: the only deletes are the cascade when an author deletes a work or
their account (see models.py), and Django's cascade deletes the children before the parent, so a
trigger could not tell it from a stray DELETE.
"""

from django.db import migrations

TABLE = "preferences_preferencestatement"
MESSAGE = "preference statements are append-only"


def create_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER pref_statement_no_update BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION pref_statement_no_update() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql;"
        )
        schema_editor.execute(
            f"CREATE TRIGGER pref_statement_no_update BEFORE UPDATE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION pref_statement_no_update();"
        )


def drop_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS pref_statement_no_update;")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS pref_statement_no_update ON {TABLE};")
        schema_editor.execute("DROP FUNCTION IF EXISTS pref_statement_no_update();")


class Migration(migrations.Migration):
    dependencies = [("preferences", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
