from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0005_identity_per_organization_and_request_fingerprint"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="corrected_fields",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="corrected fields"
            ),
        ),
    ]
