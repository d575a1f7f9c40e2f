"""附件3 人大代表“家站点”星级评分标准, as data: every item, its group, its maximum, who scores it.

The keys are stable (they are stored with entered scores and returned by the staff API).
``auto=True`` items are scored from the service's own records by ``app.rating.auto``; the
others are entered by the evaluator with a note. The maxima add up to the seed's groups:
功能配套 30, 制度建设 20, 联系群众 25, 作用发挥 25; 加分 at most 10 in all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    key: str
    group: str
    title: str
    max: float
    auto: bool = False


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    max: float
    is_bonus: bool = False


GROUPS = (
    Group("facilities", "功能配套", 30),
    Group("rules", "制度建设", 20),
    Group("contact", "联系群众", 25),
    Group("effect", "作用发挥", 25),
    Group("bonus", "加分项目", 10, is_bonus=True),
)
BONUS_CAP = 10.0

ITEMS = (
    # 功能配套 1 场地设置合理
    Item("site_location", "facilities", "选址方便代表和群众，接待场所交通方便", 3),
    Item("site_signage", "facilities", "使用“家站点”统一图标、悬挂统一标识牌，提示标识醒目", 3),
    # 功能配套 2 功能布局科学
    Item("layout_area", "facilities", "具备一定标准面积的固定活动场所，能较好满足代表活动各类需求", 3),
    Item("layout_equipment", "facilities", "配备必要办公设备设施，观感不陈旧", 3),
    Item(
        "layout_emblem",
        "facilities",
        "室内布置庄重，有醒目国徽图标，“人民选我当代表，我当代表为人民”标语上墙",
        3,
    ),
    Item("layout_info_wall", "facilities", "“家站点”简介及代表相关信息上墙、内容规范", 3),
    Item("layout_online", "facilities", "信息化平台建设及运用较好", 4),
    # 功能配套 3 力量配备优化
    Item("staff_leadership", "facilities", "组织健全，领导有力", 3),
    Item("staff_dedicated", "facilities", "有专人负责日常工作", 3),
    Item("staff_volunteers", "facilities", "动员群众骨干积极参与建设管理，作用发挥良好", 2),
    # 制度建设 1 工作制度健全
    Item("rule_study", "rules", "代表学习交流制度", 1),
    Item("rule_research", "rules", "调研视察制度", 1),
    Item("rule_reception", "rules", "联系接待群众制度", 1),
    Item("rule_opinions", "rules", "意见处理制度", 1),
    Item("rule_review", "rules", "述职评议制度", 1),
    Item("rule_registration", "rules", "履职登记制度", 1),
    Item("rule_duties", "rules", "各类人员职责", 1),
    # 制度建设 2 执行落实到位
    Item("study_sessions", "rules", "每年组织集中履职学习不少于2次、代表参与率不低于60%", 2, auto=True),
    Item("plan_announce", "rules", "有年度活动计划，活动安排提前预告，代表活动常态化", 3, auto=True),
    Item("review_held", "rules", "述职评议制度有序开展", 2),
    # 制度建设 3 运行管理规范
    Item("registration", "rules", "代表进“家站点”履职情况登记及时、完整", 3, auto=True),
    Item("dispatch", "rules", "群众意见建议及时得到交办、督办", 3, auto=True),
    # 联系群众 1 示范作用良好
    Item("leaders", "contact", "领导干部代表带头走进“家站点”活动", 3, auto=True),
    Item("fixed_contacts_set", "contact", "每位代表固定联系若干名群众，“家站点”督促代表经常走访联系", 2),
    Item("fixed_contacts_twice", "contact", "代表与固定联系对象每年联系不少于2次", 3, auto=True),
    # 联系群众 2 联系渠道畅通
    Item("contact_public", "contact", "“家站点”联系电话和代表信息向群众公开", 2),
    Item("service_days", "contact", "每月组织“代表联系服务群众日”活动不少于1次", 4, auto=True),
    Item("every_deputy", "contact", "每位代表每年到“家站点”接待选民群众不少于1次", 3, auto=True),
    Item("residents_willing", "contact", "群众乐于找代表反映情况、提出意见", 2),
    # 联系群众 3 回应关切及时
    Item("feedback_rate", "contact", "群众意见建议收集、处理、反馈机制健全，反馈率达100%", 6, auto=True),
    # 作用发挥 1 推动发展有为
    Item("publicize_policy", "effect", "积极宣传党的路线方针政策、人民代表大会制度、宪法和法律法规", 3),
    Item(
        "monitoring",
        "effect",
        "围绕热点难点问题和为民办实事项目开展代表监督活动，每年不少于2次",
        3,
        auto=True,
    ),
    # 作用发挥 2 服务群众有力
    Item("legal_publicity", "effect", "积极组织法治和惠民政策宣传", 3),
    Item("problems_solved", "effect", "推动反映的问题和民生实事解决成效明显", 6),
    Item("good_response", "effect", "代表和群众反响良好", 3),
    # 作用发挥 3 促进治理有效
    Item("governance_share", "effect", "与基层治理平台信息共享、工作互促", 2),
    Item("dispute_resolution", "effect", "代表利用自身影响力，有效推动当地矛盾化解", 3),
    Item("early_warning", "effect", "及时发现并上报影响改革发展稳定的倾向性、苗头性问题", 2),
    # 加分项目 (限10分)
    Item(
        "bonus_media",
        "bonus",
        "创新举措或特色做法在市级、省级、国家级媒体或人大系统刊物刊登（1、2、3分，不重复计分）",
        3,
    ),
    Item("bonus_theme_area", "bonus", "设有人民代表大会制度等特色主题展示区域", 1),
    Item("bonus_online", "bonus", "线上平台推广使用成效显著", 2),
    Item("bonus_results", "bonus", "工作实绩明显", 2),
    Item("bonus_senior_all", "bonus", "市级以上职务代表全员参加“家站点”活动", 1),
    Item("bonus_all_tasks", "bonus", "编入“家站点”的代表全员完成联系基层和群众任务", 1),
)

ITEMS_BY_KEY = {item.key: item for item in ITEMS}
GROUPS_BY_KEY = {group.key: group for group in GROUPS}


def items_of(group_key: str) -> list[Item]:
    return [item for item in ITEMS if item.group == group_key]


def _check() -> None:
    # The table must add up to the seed's groups; a typo here would skew every station's level.
    for group in GROUPS:
        total = sum(item.max for item in items_of(group.key))
        assert total == group.max, f"附件3 {group.name}: items add up to {total}, not {group.max}"


_check()
