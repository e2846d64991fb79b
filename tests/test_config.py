from geo.config import load_config


def test_defaults_hold_the_contract_rules():
    config = load_config()
    assert config.category_codes == ["red", "yellow", "orange", "green", "pink", "blue", "purple"]
    red, yellow, pink = config.category("red"), config.category("yellow"), config.category("pink")
    assert (red.rule.days, red.rule.min_days) == (7, 7)
    assert (yellow.rule.days, yellow.rule.min_days) == (7, 3)
    assert (pink.rule.days, pink.rule.min_days) == (30, 1)
    assert config.resolution_limit_hours == 120
    assert config.timezone == "Asia/Shanghai"


def test_override_file_merges_over_defaults(tmp_path):
    override = tmp_path / "gridmap.toml"
    override.write_text('resolution_limit_hours = 72\ntimezone = "Asia/Urumqi"\n', encoding="utf-8")
    config = load_config(str(override))
    assert config.resolution_limit_hours == 72
    assert config.timezone == "Asia/Urumqi"
    assert len(config.categories) == 7  # untouched keys keep their defaults
