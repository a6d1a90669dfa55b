"""The notification templates: every one complete in both languages, and rendered as written."""

from __future__ import annotations

import pytest

from zerotrip.messaging.notifications_templates import KINDS, TEMPLATES, check_templates, get_template


def test_every_template_is_complete() -> None:
    check_templates()
    assert {t.kind for t in TEMPLATES.values()} == set(KINDS)


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_renders_in_both_languages(key: str) -> None:
    template = get_template(key)
    params = {name: f"<{name}>" for name in template.required_params}
    for language in ("zh_Hans", "en"):
        rendered = template.render(params, language)
        for text in (rendered.subject, rendered.body, rendered.sms):
            assert text and "{" not in text
        # An SMS is one message: 70 characters at most in Chinese, before the signature and values.
        assert len(template.texts[language][2]) <= (70 if language == "zh_Hans" else 160)


def test_english_falls_back_to_the_value_given_when_there_is_no_english_one() -> None:
    template = get_template("certificates.certificate.issued")
    assert template.render({"type_name": "结婚证", "number": "N1"}, "en").subject == "Your 结婚证 is issued"
    rendered = template.render(
        {"type_name": "结婚证", "type_name_en": "Marriage certificate", "number": "N1"}, "en"
    )
    assert rendered.subject == "Your Marriage certificate is issued"
    assert (
        template.render({"type_name": "结婚证", "number": "N1"}, "zh_Hans").subject
        == "电子证照《结婚证》已签发"
    )


def test_a_template_missing_a_value_cannot_render() -> None:
    with pytest.raises(KeyError):
        get_template("certificates.certificate.issued").render({"number": "N1"}, "zh_Hans")
    with pytest.raises(LookupError):
        get_template("certificates.certificate.lost")
