"""Interface strings in zh-Hant, zh-Hans and en, chosen by the signed-in user's locale."""

from __future__ import annotations

from casebook.core.locales import LOCALES

STRINGS: dict[str, tuple[str, str, str]] = {
    "app": ("案例庫", "案例库", "Casebook"),
    "sign_in": ("登入", "登录", "Sign in"),
    "sign_out": ("登出", "退出", "Sign out"),
    "username": ("帳號", "账号", "User name"),
    "password": ("密碼", "密码", "Password"),
    "my_tasks": ("我的待辦", "我的待办", "My tasks"),
    "search": ("搜尋", "搜索", "Search"),
    "new_case": ("新建案例", "新建案例", "New case"),
    "dashboard": ("運營看板", "运营看板", "Operations dashboard"),
    "health": ("健康檢查報告", "健康检查报告", "Health check report"),
    "claim": ("認領", "认领", "Claim"),
    "decide": ("提交決定", "提交决定", "Decide"),
    "approve": ("通過", "通过", "Approve"),
    "return": ("退回修改", "退回修改", "Return for revision"),
    "reject": ("駁回", "驳回", "Reject"),
    "due": ("到期", "到期", "Due"),
    "on_time": ("按時", "按时", "on time"),
    "due_soon": ("即將到期", "即将到期", "due soon"),
    "overdue": ("已逾期", "已逾期", "overdue"),
    "no_tasks": ("目前沒有待辦。", "目前没有待办。", "Nothing to do right now."),
    "versions": ("版本記錄", "版本记录", "Versions"),
    "audit": ("審計軌跡", "审计轨迹", "Audit trail"),
    "rate": ("評分", "评分", "Rate"),
    "correction": ("提出更正", "提出更正", "Request a correction"),
    "send": ("送出", "发送", "Send"),
    "save": ("儲存", "保存", "Save"),
    "similar": ("相似案例", "相似案例", "Similar cases"),
    "tier": ("顯示層級", "显示层级", "Shown at tier"),
    "request_access": ("申請查閱", "申请查阅", "Request access"),
    "reason": ("理由", "理由", "Reason"),
    "results": ("結果", "结果", "Results"),
    "archived": ("已封存", "已归档", "archived"),
    "sort_relevance": ("相關度", "相关度", "Relevance"),
    "sort_newest": ("最新", "最新", "Newest"),
    "sort_rating": ("評分", "评分", "Rating"),
    "next_page": ("下一頁", "下一页", "Next page"),
    "previous_page": ("上一頁", "上一页", "Previous page"),
    "budget": ("預算", "预算", "Budget"),
    "export": ("匯出", "导出", "Export"),
    "background": ("背景", "背景", "Background"),
    "goal": ("目標", "目标", "Goal"),
    "strategy": ("策略", "策略", "Strategy"),
    "execution": ("執行", "执行", "Execution"),
    "data": ("數據", "数据", "Data"),
    "reflection": ("反思", "反思", "Reflection"),
    "title": ("標題", "标题", "Title"),
    "comment": ("備註", "备注", "Comment"),
    "state": ("狀態", "状态", "State"),
    "api_reference": ("API 參考", "API 参考", "API reference"),
    "not_allowed": ("您沒有權限查看此頁。", "您没有权限查看此页。", "You may not see this page."),
}
INDEX = {locale: i for i, locale in enumerate(LOCALES)}   # STRINGS tuples are in LOCALES order


def translator(locale: str):  # type: ignore[no-untyped-def]
    i = INDEX.get(locale, 2)
    return lambda key: STRINGS.get(key, (key, key, key))[i]
