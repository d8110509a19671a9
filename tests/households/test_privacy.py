"""The one masking of private fields (engine.households.privacy), which the pages and the JSON API share."""
from __future__ import annotations

from engine.households.privacy import HIDDEN, is_private, mask, masked


def test_each_kind_of_private_value_is_masked_its_own_way():
    assert mask("id_number", "36070219800101106X") == "360702********106X"
    assert mask("contact_phone", "13912345678") == "139****5678"
    assert mask("phone", "8123-4567") == "****4567"  # a short number keeps only its last four
    assert mask("phone", "12345") == "*****"
    assert mask("health_status", "长期慢性病") == HIDDEN
    assert mask("id_number", None) is None and mask("contact_phone", "") == ""


def test_the_private_fields_are_those_of_the_information_form_and_any_id_or_phone_number():
    assert {k for k in ("id_number", "health_status", "contact_phone", "phone") if is_private(k)} == {
        "id_number", "health_status", "contact_phone", "phone"}
    assert is_private("leaving_id_number") and not is_private("name") and not is_private("monitoring_contact")


def test_a_record_is_masked_at_any_depth_and_an_id_number_whatever_its_field():
    record = {"name": "新生儿", "new_member": {"id_number": "360702202609050023", "health_status": "良好",
                                              "lives_with_household": True},
              "members": [{"id_number": "360702198001011238", "sex": "男"}],
              "left": "360702195001010012", "method": "phone", "application": {"phone": "13800000000"}}
    assert masked(record) == {
        "name": "新生儿", "new_member": {"id_number": "360702********0023", "health_status": HIDDEN,
                                      "lives_with_household": True},
        "members": [{"id_number": "360702********1238", "sex": "男"}],
        "left": "360702********0012", "method": "phone", "application": {"phone": "138****0000"}}
    assert record["new_member"]["id_number"] == "360702202609050023"  # a copy: the record itself is unchanged


def test_numbers_quoted_in_a_message_are_masked():
    from engine.households.privacy import mask_numbers_in

    assert mask_numbers_in("身份证号 36070219800101123X 已登记") == "身份证号 360702********123X 已登记"
    assert mask_numbers_in("“13912345678”与“0797-8123456”") == "“139****5678”与“079****3456”"
    assert mask_numbers_in("旧号码 360702800101123") == "旧号码 360702*****1123"  # the old 15 digits
    assert mask_numbers_in("户编号 3607021012010003，村 360702101201") == "户编号 3607021012010003，村 360702101201"
    assert mask_numbers_in("第 12 行，2026-09-20 晚于今天，共 123456 户") == "第 12 行，2026-09-20 晚于今天，共 123456 户"
