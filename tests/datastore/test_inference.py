"""Type inference rules on small values, one rule per test."""

from __future__ import annotations

import pytest

from citycommons.datastore.infer import infer_column


def infer(values: list[str | None], *, european: bool = False, name: str = "x") -> tuple[str, str | None]:
    found = infer_column(values, name=name, european=european, tolerance=0.05, min_values=20)
    return (found.text_type.type if found.text_type else "string"), (
        found.text_type.label if found.text_type else found.kind
    )


@pytest.mark.parametrize(
    ("values", "european", "expected"),
    [
        (["1", "22", "-3"], False, ("integer", "an integer")),
        (["08", "019", "1"], False, ("string", "code")),
        (["1234567890123456789012"], False, ("string", "code")),
        (["1.5", "2", "-0.25", "1e3"], False, ("number", "a number")),
        (["1,5", "2", "-0,25"], True, ("number", "a number (decimal comma)")),
        (["145.411", "3.460.491", "999"], True, ("integer", "an integer (thousands `.`)")),
        (["145.411", "3.460.491", "999"], False, ("integer", "an integer (thousands `.`)")),
        (["145.411", "73.734"], True, ("integer", "an integer (thousands `.`)")),
        (["145.411", "73.734"], False, ("number", "a number")),
        (["1.234,5", "12,25"], True, ("number", "a number (thousands `.`, decimal `,`)")),
        (["1,234,567", "12"], False, ("integer", "an integer (thousands `,`)")),
        (["1,234.5", "2.5"], False, ("number", "a number (thousands `,`)")),
        (["true", "FALSE"], False, ("boolean", "a boolean (true/false)")),
        (["2023-01-01", "2024-02-29"], False, ("date", "a date (YYYY-MM-DD)")),
        (["2023-02-30"], False, ("string", None)),
        (["24/12/2025", "1/2/2025"], False, ("date", "a date (dd/mm/yyyy)")),
        (["12/24/2025", "1/2/2025"], False, ("date", "a date (mm/dd/yyyy)")),
        (["2021-01-15T10:25:28.638659", "2021-01-15 10:25"], False, ("datetime", "a timestamp (ISO 8601)")),
        (["24/12/2025 10:00", "1/2/2025 23:59:59"], False, ("datetime", "a timestamp (dd/mm/yyyy hh:mm)")),
        (["1 de enero de 2024", "15 de marzo de 2019"], True, ("date", "a long-form date")),
        (["1 d'abril de 2024", "3 de gener de 2020"], True, ("date", "a long-form date")),
        (["V", "N"], False, ("string", None)),
        (["8", "..", "12", ""], False, ("integer", "an integer")),
        (["NA", "N/A"], False, ("string", None)),
        ([None, "", "  "], False, ("string", None)),
    ],
)
def test_rules(values: list[str | None], european: bool, expected: tuple[str, str | None]) -> None:
    assert infer(values, european=european) == expected


def test_a_few_misfits_are_tolerated_only_with_enough_evidence() -> None:
    many = [str(i / 10) for i in range(100)] + ["--3.6"]
    assert infer(many) == ("number", "a number")
    assert infer(["1.5", "2.5", "3A"]) == ("string", None)
    assert infer([str(i) for i in range(50)] + ["x"] * 10) == ("string", None)


def test_names_that_say_identifier() -> None:
    assert infer(["28001", "28045"], name="CODIGO-POSTAL") == ("string", "code")
    assert infer(["915881234"], name="TELEFONO") == ("string", "code")
