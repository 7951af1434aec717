# The optional OCR flag for burned-in text (RELIABILITY S21): its verdict and engine per view.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_caseimage_phi_check'),
    ]

    operations = [
        migrations.AddField(
            model_name='caseimage',
            name='ocr_engine',
            field=models.CharField(blank=True, default='', max_length=40),
        ),
        migrations.AddField(
            model_name='caseimage',
            name='ocr_status',
            field=models.CharField(blank=True, default='', max_length=12),
        ),
    ]
