"""Reference data the complaint workflow cannot run without: the consent text, crisis phrases
and reply templates. Loaded by a data migration; idempotent, so tests can reload it after a flush."""

CONSENT_VERSION = "2026.1"
CONSENT_TITLE = "实名投诉知情同意书"
CONSENT_BODY = """为了核实您的投诉、联系您了解情况并保护您的权益，平台需要您提供真实姓名、身份证号和手机号。请在提交前阅读以下说明。

一、为什么需要这些信息
1. 真实姓名和身份证号：用于确认投诉由订单的真实用户本人提出，防止冒名投诉或恶意投诉。
2. 手机号：用于工作人员在调查期间与您联系，了解您的期望、遇到的困难和证据。

二、谁能看到这些信息
1. 这些信息加密保存。工作人员在页面上只能看到打码后的内容（例如“张*”“138****5678”）。
2. 只有督导和负责调查您投诉的专业组成员，在写明理由后才能查看完整信息；每一次查看都会被记录。
3. 被投诉的倾听师不会看到您的姓名、身份证号和手机号。平台会告知倾听师您已签署本同意书，并向其转述投诉内容。

三、信息的保存
投诉归档后，您的身份信息会按平台规定的期限保存，期满后进行匿名化处理。您可以随时在账户中查看自己的投诉记录。

四、您的选择
本同意书与平台隐私政策相互独立。您可以不同意；但不提供实名信息时，平台无法受理对倾听师的实名投诉。若您感到不安全或有伤害自己的想法，请立即拨打全国心理援助热线 12356，或拨打 120 / 110。

勾选“我已阅读并同意”，即表示您同意平台为处理本次投诉而收集和使用上述个人信息。"""

CRISIS_TERMS = [
    "自杀", "不想活", "轻生", "寻死", "想死", "去死", "结束生命", "结束自己", "跳楼", "割腕", "吞药", "安眠药",
    "活不下去", "自残", "自伤", "遗书", "了结自己",
    "suicide", "suicidal", "kill myself", "end my life", "self-harm", "self harm", "want to die",
]  # fmt: skip

REPLY_TEMPLATES = [
    (
        "通话质量：已核实并退款",
        "call_quality",
        "您好，关于订单 {order_no}（投诉编号 {reference}），我们核实到通话过程中存在明显的音质或连接问题，"
        "已为您安排退款，款项将原路退回。给您带来不便，非常抱歉。",
    ),
    (
        "订单异常：已更正",
        "order_anomaly",
        "您好，关于订单 {order_no}（投诉编号 {reference}），我们核实到订单存在异常，已完成更正。"
        "如仍有疑问，欢迎随时在投诉页面补充说明。",
    ),
]


def defaults_load(apps=None) -> None:
    """Create what is missing; never overwrite what supervisors have edited."""
    from django.apps import apps as live_apps

    apps = apps or live_apps
    ConsentText = apps.get_model("complaints", "ConsentText")
    if not ConsentText.objects.filter(is_current=True).exists():
        ConsentText.objects.update_or_create(
            version=CONSENT_VERSION, defaults={"title": CONSENT_TITLE, "body": CONSENT_BODY, "is_current": True}
        )
    CrisisTerm = apps.get_model("complaints", "CrisisTerm")
    for phrase in CRISIS_TERMS:
        CrisisTerm.objects.get_or_create(phrase=phrase)
    ReplyTemplate = apps.get_model("complaints", "ReplyTemplate")
    for title, category, body in REPLY_TEMPLATES:
        ReplyTemplate.objects.get_or_create(title=title, defaults={"category": category, "body": body})
