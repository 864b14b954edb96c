"""The region a deployment serves, read from `app/regions/<code>.json`."""
import json
from functools import cache
from pathlib import Path

from flask import current_app
from flask_babel import get_locale

REGIONS_DIR = Path(__file__).resolve().parent.parent / "regions"


@cache
def load_region(code):
    """Return the region's definition; an unknown code fails with the file it looked for."""
    path = REGIONS_DIR / f"{code}.json"
    if not path.exists():
        raise LookupError(f"no region definition {path}; set REGION_CODE to one in app/regions/")
    return json.loads(path.read_text(encoding="utf-8"))


def current_region():
    """The region configured for the running app."""
    return load_region(current_app.config["REGION_CODE"])


def town_codes(region_code=None):
    """The region's town codes in the order of its file; the running app's region when none is given."""
    region = current_region() if region_code is None else load_region(region_code)
    return [town["code"] for town in region["towns"]]


def town_choices():
    """(code, name) pairs of the region's towns in the user's language."""
    english = str(get_locale()) == "en"
    return [(t["code"], t["name_en"] if english else t["name"]) for t in current_region()["towns"]]


def town_name(code):
    """The name of a town by its statistical code, or the code itself when unknown."""
    return dict(town_choices()).get(code, code)
