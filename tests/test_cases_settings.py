"""The [cases] configuration: defaults, overrides, and inconsistent settings refused."""

import pytest

from geo.cases.settings import case_settings


def test_defaults():
    settings = case_settings()
    assert settings.base_limit_hours == 120 and settings.reminder_hours == 24
    assert settings.approver_roles == {"street_leader"}
    assert list(settings.return_visit_methods) == ["visit", "wechat", "phone"]
    assert settings.departments["占道经营"] == "urban_management"
    assert list(settings.mediation.kinds) == [
        "neighbour",
        "marriage_family",
        "environment",
        "owners_committee",
        "property",
        "labour",
        "other",
    ]
    assert list(settings.mediation.types) == [
        "people",
        "judicial",
        "administrative",
        "pre_litigation",
        "legal_aid",
    ]
    assert list(settings.mediation.outcomes) == ["success", "failed", "litigation"]
    assert not settings.hook.configured


def test_override_from_the_deployment_file(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(
        "resolution_limit_hours = 72\n"
        '[cases]\nreminder_hours = 8\napprover_roles = ["street_leader", "admin"]\n'
        '[cases.departments]\n"井盖缺失" = "urban_management"\n'
        '[cases.hook]\nurl = "http://127.0.0.1:8090/notify"\n'
        '[cases.mediation.rooms]\n"东河社区" = "小杨人民调解室"\n',
        encoding="utf-8",
    )
    settings = case_settings(str(path))
    assert settings.base_limit_hours == 72 and settings.reminder_hours == 8
    assert settings.approver_roles == {"street_leader", "admin"}
    # tables merge key by key: the defaults' categories stay
    assert settings.departments["井盖缺失"] == "urban_management"
    assert settings.departments["占道经营"] == "urban_management"
    assert settings.hook.configured and settings.hook.url.endswith("/notify")
    assert settings.mediation.room_name("东河社区") == "小杨人民调解室"
    assert settings.mediation.room_name("北垣社区") is None


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ('[cases.departments]\n"x" = "grid_worker"\n', "not a department role"),
        ('[cases.mediation]\nconcluding_outcomes = ["won"]\n', "concluding_outcomes"),
        ('[cases.hook]\ncommand = ["notify"]\nurl = "http://127.0.0.1/"\n', "not both"),
    ],
)
def test_inconsistent_settings_refused(tmp_path, override, problem):
    path = tmp_path / "bad.toml"
    path.write_text(override, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        case_settings(str(path))


def test_outcomes_without_success_refused():
    import tomllib

    from geo.cases.settings import DEFAULTS_PATH, build_case_settings

    raw = tomllib.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))["cases"]
    raw["mediation"]["outcomes"] = {"done": "完成"}
    raw["mediation"]["concluding_outcomes"] = ["done"]
    with pytest.raises(ValueError, match="needs 'success'"):
        build_case_settings(raw, 120)
