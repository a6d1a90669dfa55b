"""What citizens are told, in Chinese and English: the kinds of event and one template per event.

A **kind** is what a person chooses channels for on the preferences page (the in-app inbox always; e-mail
and SMS by choice), with defaults for people who have not chosen. A **template** belongs to one kind and
says the event in both languages three ways: an e-mail subject, a body (the inbox and the e-mail) and a
short SMS text. Placeholders are ``{name}`` fields filled from the notification's params; a field ending
in ``_en`` (``{item_name_en}``) falls back to the field without it when the caller gave no English value.

Contexts that send add their templates here (booking will), so the texts are reviewed in one place.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("zh_Hans", "en")
DEFAULT_LANGUAGE = "zh_Hans"
OPTIONAL_CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class Kind:
    key: str
    # Channels besides the inbox that a person who has not chosen gets.
    default_channels: frozenset[str]


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("application_decided", frozenset({"email", "sms"})),
        Kind("application_attention", frozenset({"email", "sms"})),
        Kind("application_progress", frozenset()),
        Kind("certificate_issued", frozenset({"email"})),
        Kind("certificate_status", frozenset({"email", "sms"})),
        Kind("objection_answered", frozenset({"email"})),
        # Staff notices: an emergency notice still unread (or unacknowledged) after its reminder time.
        Kind("notice_emergency", frozenset({"sms"})),
        # booking: confirmations (new, from the waitlist, moved), cancellations, the day-before reminder
        Kind("booking_confirmed", frozenset({"sms"})),
        Kind("booking_cancelled", frozenset({"email", "sms"})),
        Kind("booking_reminder", frozenset({"sms"})),
        Kind("vaccination_recorded", frozenset({"email"})),
    )
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    sms: str


@dataclass(frozen=True)
class Template:
    key: str
    kind: str
    # By language: (subject, body, sms).
    texts: Mapping[str, tuple[str, str, str]]

    @property
    def required_params(self) -> frozenset[str]:
        """Every field the Chinese texts use (the English ones may use ``_en`` variants on top)."""
        return frozenset(
            name
            for text in self.texts[DEFAULT_LANGUAGE]
            for _, name, _, _ in string.Formatter().parse(text)
            if name
        )

    def render(self, params: Mapping[str, Any], language: str) -> Rendered:
        subject, body, sms = self.texts.get(language) or self.texts[DEFAULT_LANGUAGE]
        values = _Values(params)
        return Rendered(
            subject=subject.format_map(values), body=body.format_map(values), sms=sms.format_map(values)
        )


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        if key.endswith("_en") and key[:-3] in self:
            return self[key[:-3]]
        raise KeyError(key)


def _t(key: str, kind: str, zh: tuple[str, str, str], en: tuple[str, str, str]) -> Template:
    return Template(key=key, kind=kind, texts={"zh_Hans": zh, "en": en})


TEMPLATES: dict[str, Template] = {
    template.key: template
    for template in (
        # -- booking: appointments and vaccinations (预约接种) ----------------------------------------------
        _t(
            "booking.appointment.booked",
            "booking_confirmed",
            (
                "预约成功：{product_name}",
                "您已预约{starts_at}在{site_name}（{site_address}）接种{product_name}第{dose}剂，"
                "预约号 {number}。请携带身份证件按时到场，出示预约二维码签到；预约详情中可下载日历文件。",
                "预约成功：{starts_at} {site_name} {product_name}第{dose}剂，预约号{number}。",
            ),
            (
                "Booked: {product_name_en}",
                "You are booked for dose {dose} of {product_name_en} at {site_name} ({site_address}) on"
                " {starts_at}, booking number {number}. Bring your ID and show the booking QR code to check"
                " in; the booking's page has its calendar file.",
                "Booked: {starts_at} {site_name}, {product_name_en} dose {dose}, no. {number}.",
            ),
        ),
        _t(
            "booking.appointment.promoted",
            "booking_confirmed",
            (
                "候补成功：{product_name}",
                "您候补的{starts_at}{site_name}{product_name}第{dose}剂已有空位，已为您预约，"
                "预约号 {number}。如不能前往，请及时取消。",
                "候补成功：{starts_at} {site_name} {product_name}，预约号{number}。",
            ),
            (
                "A seat came free: {product_name_en}",
                "A seat came free in the slot you waited for: you are booked for dose {dose} of"
                " {product_name_en} at {site_name} on {starts_at}, booking number {number}. Cancel it if you"
                " cannot come.",
                "Waitlist: booked {starts_at} {site_name}, no. {number}.",
            ),
        ),
        _t(
            "booking.appointment.rescheduled",
            "booking_confirmed",
            (
                "预约已改期：{product_name}",
                "您的预约 {number} 已改到{starts_at}，地点{site_name}（{site_address}）。",
                "预约{number}已改到{starts_at} {site_name}。",
            ),
            (
                "Booking moved: {product_name_en}",
                "Your booking {number} is moved to {starts_at} at {site_name} ({site_address}).",
                "Booking {number} moved to {starts_at} {site_name}.",
            ),
        ),
        _t(
            "booking.appointment.cancelled",
            "booking_cancelled",
            (
                "预约已取消：{product_name}",
                "您已取消{starts_at}在{site_name}的预约（{number}）。",
                "预约{number}已取消。",
            ),
            (
                "Booking cancelled: {product_name_en}",
                "You cancelled your booking {number} at {site_name} on {starts_at}.",
                "Booking {number} is cancelled.",
            ),
        ),
        _t(
            "booking.appointment.cancelled_by_site",
            "booking_cancelled",
            (
                "接种单位取消了您的预约：{product_name}",
                "很抱歉，{site_name}取消了您{starts_at}的预约（{number}）。原因：{reason}。请重新预约。",
                "{site_name}取消了您{starts_at}的预约{number}，原因：{reason}。请重新预约。",
            ),
            (
                "Your booking was cancelled by the site",
                "We are sorry: {site_name} cancelled your booking {number} on {starts_at}. Reason: {reason}."
                " Please book again.",
                "{site_name} cancelled booking {number} ({starts_at}): {reason}. Please book again.",
            ),
        ),
        _t(
            "booking.appointment.reminder",
            "booking_reminder",
            (
                "明天接种提醒：{product_name}",
                "提醒：您预约了{starts_at}在{site_name}（{site_address}）接种{product_name}第{dose}剂，"
                "预约号 {number}。请携带身份证件按时到场。",
                "提醒：明天{starts_at} {site_name} {product_name}，预约号{number}。",
            ),
            (
                "Tomorrow: {product_name_en}",
                "Reminder: dose {dose} of {product_name_en} at {site_name} ({site_address}) on {starts_at},"
                " booking number {number}. Bring your ID.",
                "Reminder: tomorrow {starts_at} {site_name}, no. {number}.",
            ),
        ),
        _t(
            "booking.vaccination.recorded",
            "vaccination_recorded",
            (
                "接种已登记：{product_name}第{dose}剂",
                "{site_name}已登记您的{product_name}第{dose}剂接种（预约号 {number}），"
                "可在“随身查”中查看接种记录。{certificate}",
                "{product_name}第{dose}剂接种已登记，可在随身查中查看。",
            ),
            (
                "Vaccination recorded: {product_name_en} dose {dose}",
                "{site_name} recorded dose {dose} of {product_name_en} (booking {number}); your vaccination"
                " record shows it. {certificate_en}",
                "Dose {dose} of {product_name_en} is recorded.",
            ),
        ),
        # -- services: applications (办件) ------------------------------------------------------------
        _t(
            "services.application.approved",
            "application_decided",
            (
                "办件 {number} 已办结：准予许可",
                "您申请的“{item_name}”（办件编号 {number}）已审核通过。办理结果可在“我的办件”中查看。",
                "您申请的“{item_name}”（{number}）已审核通过，请登录查看办理结果。",
            ),
            (
                "Application {number} approved",
                "Your application for “{item_name_en}” (number {number}) is approved. The decision is under"
                " My applications.",
                "Your application {number} ({item_name_en}) is approved; sign in to see the decision.",
            ),
        ),
        _t(
            "services.application.refused",
            "application_decided",
            (
                "办件 {number} 已办结：不予许可",
                "您申请的“{item_name}”（办件编号 {number}）未获批准。理由：{reason}",
                "您申请的“{item_name}”（{number}）未获批准，请登录查看理由。",
            ),
            (
                "Application {number} refused",
                "Your application for “{item_name_en}” (number {number}) is refused. Reason: {reason}",
                "Your application {number} ({item_name_en}) is refused; sign in to see why.",
            ),
        ),
        _t(
            "services.application.supplement",
            "application_attention",
            (
                "办件 {number} 需要补正材料",
                "您申请的“{item_name}”（办件编号 {number}）需要补正：{reason}。请在“我的办件”中补充。",
                "您申请的“{item_name}”（{number}）需要补正材料，请尽快登录补充。",
            ),
            (
                "Application {number} needs more from you",
                "Your application for “{item_name_en}” (number {number}) needs more: {reason}. Add it under"
                " My applications.",
                "Your application {number} ({item_name_en}) needs more from you; please sign in.",
            ),
        ),
        _t(
            "services.application.referred",
            "application_progress",
            (
                "办件 {number} 已转人工审核",
                "您申请的“{item_name}”（办件编号 {number}）已转由工作人员审核，结果将另行通知。",
                "您申请的“{item_name}”（{number}）已转人工审核。",
            ),
            (
                "Application {number} is with a reviewer",
                "Your application for “{item_name_en}” (number {number}) is with a member of staff; you will"
                " be told the decision.",
                "Your application {number} ({item_name_en}) is with a reviewer.",
            ),
        ),
        _t(
            "services.application.accepted",
            "application_progress",
            (
                "办件 {number} 已受理",
                "您申请的“{item_name}”（办件编号 {number}）已受理。",
                "您申请的“{item_name}”（{number}）已受理。",
            ),
            (
                "Application {number} accepted",
                "Your application for “{item_name_en}” (number {number}) is accepted for processing.",
                "Your application {number} ({item_name_en}) is accepted.",
            ),
        ),
        # -- certificates (电子证照) ------------------------------------------------------------------
        _t(
            "certificates.certificate.issued",
            "certificate_issued",
            (
                "电子证照《{type_name}》已签发",
                "您的电子证照《{type_name}》（{number}）已签发，可在卡包中查看和出示。",
                "您的电子证照《{type_name}》已签发，可在卡包中查看。",
            ),
            (
                "Your {type_name_en} is issued",
                "Your e-certificate “{type_name_en}” ({number}) is issued; find and show it in your wallet.",
                "Your e-certificate {type_name_en} is issued; it is in your wallet.",
            ),
        ),
        _t(
            "certificates.certificate.suspended",
            "certificate_status",
            (
                "电子证照《{type_name}》已暂停使用",
                "您的电子证照《{type_name}》（{number}）已被签发部门暂停使用。原因：{reason}",
                "您的电子证照《{type_name}》已被暂停使用，原因：{reason}",
            ),
            (
                "Your {type_name_en} is suspended",
                "Your e-certificate “{type_name_en}” ({number}) is suspended by the issuing department."
                " Reason: {reason}",
                "Your e-certificate {type_name_en} is suspended. Reason: {reason}",
            ),
        ),
        _t(
            "certificates.certificate.reinstated",
            "certificate_status",
            (
                "电子证照《{type_name}》已恢复有效",
                "您的电子证照《{type_name}》（{number}）已恢复有效。",
                "您的电子证照《{type_name}》已恢复有效。",
            ),
            (
                "Your {type_name_en} is valid again",
                "Your e-certificate “{type_name_en}” ({number}) is valid again.",
                "Your e-certificate {type_name_en} is valid again.",
            ),
        ),
        _t(
            "certificates.certificate.revoked",
            "certificate_status",
            (
                "电子证照《{type_name}》已撤销",
                "您的电子证照《{type_name}》（{number}）已被签发部门撤销，不能再使用。原因：{reason}",
                "您的电子证照《{type_name}》已被撤销，原因：{reason}",
            ),
            (
                "Your {type_name_en} is revoked",
                "Your e-certificate “{type_name_en}” ({number}) is revoked by the issuing department and can"
                " no longer be used. Reason: {reason}",
                "Your e-certificate {type_name_en} is revoked. Reason: {reason}",
            ),
        ),
        # -- datahub: objections (异议) ---------------------------------------------------------------
        _t(
            "datahub.objection.corrected",
            "objection_answered",
            (
                "异议 {number} 已处理：数据已更正",
                "您对“{resource_title}”中“{field_title}”提出的异议（{number}）已核实，数据已更正。答复：{answer}",
                "您的数据异议（{number}）已核实，数据已更正。",
            ),
            (
                "Objection {number}: the data is corrected",
                "Your objection ({number}) to “{field_title_en}” in “{resource_title_en}” was upheld and the"
                " value corrected. Answer: {answer}",
                "Your objection {number} was upheld; the data is corrected.",
            ),
        ),
        _t(
            "datahub.objection.rejected",
            "objection_answered",
            (
                "异议 {number} 已答复",
                "您对“{resource_title}”中“{field_title}”提出的异议（{number}）经核实未予更正。答复：{answer}",
                "您的数据异议（{number}）已答复，请登录查看。",
            ),
            (
                "Objection {number} is answered",
                "Your objection ({number}) to “{field_title_en}” in “{resource_title_en}” was checked and the"
                " value stays. Answer: {answer}",
                "Your objection {number} is answered; sign in to read it.",
            ),
        ),
        # -- messaging: staff notices (a reminder escalated to SMS for an emergency) --------------------
        _t(
            "messaging.notice.reminder",
            "notice_emergency",
            (
                "紧急通知提醒：{title}",
                "{publisher}发布的紧急通知“{title}”您尚未{action}，请立即登录政务工作台查看并{action}。",
                "【紧急通知】{publisher}“{title}”您尚未{action}，请立即登录工作台处理。",
            ),
            (
                "Emergency notice reminder: {title}",
                "You have not yet {action_en} the emergency notice “{title}” from {publisher_en}. Sign in"
                " to the staff workspace now.",
                "[Emergency] You have not {action_en} “{title}” from {publisher_en}; sign in now.",
            ),
        ),
    )
}


def get_template(key: str) -> Template:
    """The template, or LookupError: a caller naming a template that does not exist is a programming
    error, not a user's."""
    template = TEMPLATES.get(key)
    if template is None:
        raise LookupError(f"no notification template {key!r}")
    return template


def check_templates() -> None:
    """Every template belongs to a kind, has both languages, and its English texts use no field the
    Chinese ones lack (besides ``_en`` variants). Run by the tests."""
    for template in TEMPLATES.values():
        if template.kind not in KINDS:
            raise ValueError(f"{template.key}: unknown kind {template.kind}")
        if set(template.texts) != set(LANGUAGES):
            raise ValueError(f"{template.key}: needs texts in {LANGUAGES}")
        required = template.required_params
        for text in template.texts["en"]:
            for _, name, _, _ in string.Formatter().parse(text):
                if name and name not in required and name.removesuffix("_en") not in required:
                    raise ValueError(f"{template.key}: English uses {{{name}}}, which Chinese does not")
