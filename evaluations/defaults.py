"""The default grading scheme (DOMAIN §3), loaded as data; supervisors edit it in the admin."""

DEFAULT_GRADES = [
    (0, "无明确不足", "未发现倾听师存在明确不足。尊重倾听师意见，由平台与用户协调沟通。", [], ["coordination", "explanation"], False),
    (1, "轻微胜任力不足", "存在轻微的专业胜任力不足，未造成明显伤害，倾听师有觉察和反思。",
     ["feedback", "continued_learning"], ["apology", "explanation"], False),
    (2, "明显胜任力不足或轻微伦理问题", "专业胜任力明显不足，或存在轻微伦理问题；对用户造成一定伤害但可以弥补。",
     ["feedback", "supervision_sessions", "personal_therapy", "hide_profile"], ["apology", "partial_refund"], False),
    (3, "严重违规或造成伤害", "严重违反伦理或专业规范，或对用户造成较严重伤害，倾听师觉察和反思不足。",
     ["competency_interview", "suspend_orders"], ["apology", "full_refund", "compensation"], True),
    (4, "严重伦理或违法行为", "严重违反职业伦理或涉嫌违法；依法需要时报告有关部门。",
     ["delist", "report_to_authorities"], ["apology", "full_refund", "compensation"], True),
]  # fmt: skip


def grades_load(apps=None) -> None:
    from django.apps import apps as live_apps

    Grade = (apps or live_apps).get_model("evaluations", "Grade")
    for level, name, meaning, measures, remedies, approval in DEFAULT_GRADES:
        Grade.objects.get_or_create(
            level=level,
            defaults={
                "name": name,
                "meaning": meaning,
                "measures": measures,
                "remedies": remedies,
                "requires_approval": approval,
            },
        )
