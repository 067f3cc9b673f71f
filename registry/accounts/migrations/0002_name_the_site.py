"""Name the Sites-framework site the mail and pages use, instead of Django's "example.com".

allauth writes `current_site.name` and `.domain` into every account email ("…register an account
on example.com"). The domain is taken from SITE_URL when the migration runs; an operator can edit
it later in the admin (Sites).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations

SITE_NAME = "Opt-out registry"


def name_the_site(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    domain = urlsplit(settings.SITE_URL).netloc or "127.0.0.1:8000"
    Site.objects.using(schema_editor.connection.alias).update_or_create(
        id=settings.SITE_ID, defaults={"domain": domain, "name": SITE_NAME}
    )
    # An explicit id leaves PostgreSQL's sequence behind; the next site added in the admin would
    # collide with it. Django's own create_default_site does the same reset.
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [Site]):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [migrations.RunPython(name_the_site, migrations.RunPython.noop)]
