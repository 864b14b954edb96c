"""The region's towns, read from its file."""
import pytest

from app.common.region import load_region, town_codes, town_name

YINTAI_TOWNS = ["610203001", "610203002", "610203003", "610203004", "610203100", "610203101", "610203102",
                "610203104", "610203106"]


def test_town_codes_are_the_region_file_towns_in_order():
    assert town_codes("610203") == YINTAI_TOWNS


def test_town_codes_default_to_the_running_app_region(app):
    app.config["REGION_CODE"] = "610203"
    assert town_codes() == YINTAI_TOWNS


def test_town_codes_are_a_fresh_list_each_time():
    codes = town_codes("610203")
    codes.append("610203999")
    assert town_codes("610203") == YINTAI_TOWNS
    assert len(load_region("610203")["towns"]) == len(YINTAI_TOWNS)


def test_an_unknown_region_names_the_file_it_looked_for():
    with pytest.raises(LookupError, match="no region definition .*999999.json"):
        town_codes("999999")


def test_an_unknown_town_is_shown_as_its_code(app):
    with app.test_request_context():
        assert town_name("610203100") == "陈炉镇"
        assert town_name("610203999") == "610203999"

