"""The default interview rubric (DOMAIN §4). Loaded by a data migration; idempotent."""

from decimal import Decimal

# (area code, area name, weight out of 100, [(item code, item name)])
# An area without sub-items in the domain has one item of its own name.
DEFAULT_RUBRIC = [
    ("ethics", "专业伦理", Decimal("15"), [("ethics", "专业伦理")]),
    (
        "relationship",
        "关系建立",
        Decimal("20"),
        [
            ("respect_sincerity", "尊重与真诚"),
            ("empathy", "共情"),
            ("attention_listening", "关注与倾听"),
            ("awareness", "觉察"),
            ("problem_focus", "问题聚焦"),
        ],
    ),
    (
        "case_understanding",
        "个案理解",
        Decimal("20"),
        [
            ("data_gathering", "资料收集"),
            ("assessment", "评估"),
            ("goal_relevance", "目标相关性"),
            ("working_approach", "工作思路"),
        ],
    ),
    (
        "basic_competence",
        "基本胜任力",
        Decimal("20"),
        [
            ("crisis_intervention", "单次危机干预"),
            ("assessment_referral", "评估与转介"),
            ("psycho_education", "心理教育"),
            ("case_report_writing", "个案报告撰写"),
        ],
    ),
    (
        "core_competence",
        "核心胜任力",
        Decimal("15"),
        [
            ("awareness_reflection", "觉察与反思"),
            ("influence", "影响力"),
            ("boundaries", "边界"),
        ],
    ),
    ("identity_planning", "专业认同与规划", Decimal("10"), [("identity_planning", "专业认同与规划")]),
]


def rubric_load(apps=None) -> None:
    """Create missing areas and items; never overwrite weights supervisors edited."""
    from django.apps import apps as live_apps

    registry = apps or live_apps
    ScoringArea = registry.get_model("interviews", "ScoringArea")
    ScoringItem = registry.get_model("interviews", "ScoringItem")
    for area_pos, (code, name, weight, items) in enumerate(DEFAULT_RUBRIC):
        area, _created = ScoringArea.objects.get_or_create(
            code=code, defaults={"name": name, "weight": weight, "position": area_pos}
        )
        for item_pos, (item_code, item_name) in enumerate(items):
            ScoringItem.objects.get_or_create(
                code=item_code, defaults={"area": area, "name": item_name, "position": item_pos}
            )
