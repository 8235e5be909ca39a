"""The shipped territory reference: complete, internally consistent, and usable by the calendar."""

from datetime import date
from pathlib import Path

import pytest
from vacances_scolaires_france import SchoolHolidayDates

from implantation.config.loader import ConfigError, load_file
from implantation.config.schema import TerritoryFile

TERRITORIES = Path(__file__).resolve().parents[2] / "config" / "territoires.toml"

OVERSEAS_DEPARTEMENTS = {"971": "01", "972": "02", "973": "03", "974": "04", "976": "06"}
CORSE = {"2A", "2B"}


@pytest.fixture(scope="module")
def territory() -> TerritoryFile:
    loaded = load_file(TERRITORIES, TerritoryFile)
    assert isinstance(loaded, TerritoryFile)
    return loaded


def test_every_departement_is_listed_once(territory: TerritoryFile) -> None:
    metropolitan = {f"{n:02d}" for n in range(1, 96) if n != 20} | CORSE
    assert set(territory.departement) == metropolitan | set(OVERSEAS_DEPARTEMENTS)
    assert len(territory.departement) == 101


def test_thirteen_metropolitan_and_five_overseas_regions(territory: TerritoryFile) -> None:
    overseas = set(OVERSEAS_DEPARTEMENTS.values())
    assert overseas <= set(territory.region)
    assert len(set(territory.region) - overseas) == 13


def test_every_region_has_departements(territory: TerritoryFile) -> None:
    used = {dep.region for dep in territory.departement.values()}
    assert used == set(territory.region)


def test_nine_disp_and_the_overseas_mission_are_all_used(territory: TerritoryFile) -> None:
    assert len(territory.disp) == 10
    assert "MOM" in territory.disp
    assert {dep.disp for dep in territory.departement.values()} == set(territory.disp)


def test_a_disp_covers_whole_regions(territory: TerritoryFile) -> None:
    disp_by_region: dict[str, set[str]] = {}
    for dep in territory.departement.values():
        disp_by_region.setdefault(dep.region, set()).add(dep.disp)
    split = {region: disps for region, disps in disp_by_region.items() if len(disps) > 1}
    assert split == {}


@pytest.mark.parametrize(
    ("code", "region", "disp", "zone"),
    [
        ("38", "84", "LYON", "A"),
        ("57", "44", "STRASBOURG", "B"),
        ("66", "76", "TOULOUSE", "C"),
        ("75", "11", "PARIS", "C"),
        ("35", "53", "RENNES", "B"),
        ("45", "24", "DIJON", "B"),
        ("2B", "94", "MARSEILLE", None),
        ("974", "04", "MOM", None),
    ],
)
def test_spot_checks(territory: TerritoryFile, code: str, region: str, disp: str, zone: str | None) -> None:
    dep = territory.departement[code]
    assert (dep.region, dep.disp, dep.zone_vacances) == (region, disp, zone)


def test_overseas_departements_belong_to_their_own_region_and_the_mission(territory: TerritoryFile) -> None:
    for code, region in OVERSEAS_DEPARTEMENTS.items():
        dep = territory.departement[code]
        assert (dep.region, dep.disp) == (region, "MOM")
        # A single service acts at regional and departmental level overseas.
        assert dep.ddets == territory.region[region].dreets


def test_metropolitan_zones_are_the_ones_the_holiday_package_knows(territory: TerritoryFile) -> None:
    for code, dep in territory.departement.items():
        if code in OVERSEAS_DEPARTEMENTS or code in CORSE:
            assert dep.zone_vacances is None, code
        else:
            assert dep.zone_vacances in SchoolHolidayDates.SUPPORTED_ZONES, code


def test_each_zone_yields_school_holidays(territory: TerritoryFile) -> None:
    zones = {dep.zone_vacances for dep in territory.departement.values()} - {None}
    assert zones == {"A", "B", "C"}
    holidays = SchoolHolidayDates()
    for zone in sorted(zones):
        assert holidays.is_holiday_for_zone(date(2025, 12, 26), zone)


def test_ile_de_france_labour_services(territory: TerritoryFile) -> None:
    for code in ("75", "92", "93", "94"):
        assert territory.departement[code].ddets.startswith("UD de la DRIEETS "), code
    for code in ("77", "78", "91", "95"):
        assert territory.departement[code].ddets.startswith("DDETS "), code
    assert territory.region["11"].dreets == "DRIEETS Île-de-France"


def test_an_unknown_disp_is_refused_in_french(tmp_path: Path) -> None:
    broken = tmp_path / "territoires.toml"
    text = TERRITORIES.read_text(encoding="utf-8")
    broken.write_text(text.replace('disp = "LYON"', 'disp = "LYONN"', 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="DISP inconnue « LYONN »"):
        load_file(broken, TerritoryFile)
