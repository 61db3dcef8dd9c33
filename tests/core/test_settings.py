import pytest
from pydantic import Field

from pyramidion.settings import Section, SettingsError, resolve, section


def test_environment_overrides_the_ini_value():
    settings = resolve({"sqlalchemy.url": "sqlite:///a.db"}, {"PYRAMIDION_SQLALCHEMY_URL": "postgresql://db/x"})
    assert settings["sqlalchemy.url"] == "postgresql://db/x"


def test_a_secret_reference_is_read_from_the_environment():
    settings = resolve({"jwt.secret": "${MY_SECRET}"}, {"MY_SECRET": "s3cret"})
    assert settings["jwt.secret"] == "s3cret"


def test_a_missing_secret_stops_startup_naming_setting_and_variable():
    with pytest.raises(SettingsError) as err:
        resolve({"jwt.secret": "${MY_SECRET}"}, {})
    assert str(err.value) == "setting 'jwt.secret' must come from the environment variable MY_SECRET, which is not set"


class Wallet(Section):
    minimum_balance: int = Field(0, alias="wallet.minimum_balance", ge=0)
    currency: str = "EUR"


def test_section_types_values_and_fills_defaults():
    settings = {"bar.wallet.minimum_balance": "5"}
    parsed = section(settings, "bar", Wallet)
    assert parsed.minimum_balance == 5
    assert settings["bar.wallet.minimum_balance"] == 5
    assert settings["bar.currency"] == "EUR"


def test_section_error_names_the_setting():
    with pytest.raises(SettingsError, match=r"bar\.wallet\.minimum_balance"):
        section({"bar.wallet.minimum_balance": "-1"}, "bar", Wallet)


def test_a_variable_sets_a_setting_the_ini_file_does_not_name(monkeypatch):
    monkeypatch.setenv("PYRAMIDION_BAR_CURRENCY", "CHF")
    settings = {}
    assert section(settings, "bar", Wallet).currency == "CHF"
    assert settings["bar.currency"] == "CHF"
