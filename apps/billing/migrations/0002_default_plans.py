from decimal import Decimal

from django.db import migrations

PLANS = [
    {"code": "free", "name": "Free", "monthly_price_usd": Decimal("0"), "max_projects": 3, "max_members": 5,
     "default_ai_daily_budget_usd": Decimal("1"), "default_ai_monthly_budget_usd": Decimal("10")},
    {"code": "team", "name": "Team", "monthly_price_usd": Decimal("99"), "max_projects": 25, "max_members": 50,
     "default_ai_daily_budget_usd": Decimal("20"), "default_ai_monthly_budget_usd": Decimal("200")},
    {"code": "business", "name": "Business", "monthly_price_usd": Decimal("499"), "max_projects": None,
     "max_members": None, "default_ai_daily_budget_usd": Decimal("100"),
     "default_ai_monthly_budget_usd": Decimal("1500")},
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for plan in PLANS:
        Plan.objects.update_or_create(code=plan["code"], defaults=plan)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
