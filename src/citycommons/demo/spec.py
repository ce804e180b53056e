"""How a demo dataset is described: metadata in ca/es/en, the generator of its table, the files to publish."""

from __future__ import annotations

from dataclasses import dataclass

from citycommons.catalog.schemas import AccessRights
from citycommons.demo.tables import Generator

LINK_BASE = "https://barcelona.example"  # fictional documents and services of the demo city (reserved domain)


def T(ca: str, es: str, en: str) -> dict[str, str]:  # noqa: N802 - reads as a literal in the specs
    """A text in the three languages of the city."""
    return {"ca": ca, "es": es, "en": en}


@dataclass(frozen=True)
class Link:
    """A distribution that is only a URL: a PDF report, an API, a map service."""

    title: dict[str, str]
    path: str
    format: str
    description: dict[str, str] | None = None

    @property
    def url(self) -> str:
        return f"{LINK_BASE}/{self.path}"


def report(path: str, what: str = "methodology") -> Link:
    titles = {
        "methodology": T("Nota metodològica (PDF)", "Nota metodológica (PDF)", "Methodology note (PDF)"),
        "report": T("Informe anual (PDF)", "Informe anual (PDF)", "Annual report (PDF)"),
    }
    return Link(titles[what], f"docs/{path}.pdf", "PDF")


def api(path: str) -> Link:
    return Link(
        T("API en temps real (JSON)", "API en tiempo real (JSON)", "Real-time API (JSON)"),
        f"api/{path}",
        "JSON",
        T(
            "Servei web de consulta; vegeu-ne la documentació.",
            "Servicio web de consulta; véase su documentación.",
            "Web service; see its documentation.",
        ),
    )


@dataclass(frozen=True)
class Spec:
    name: str
    org: str
    title: dict[str, str]
    description: dict[str, str]
    themes: tuple[str, ...]
    tags: tuple[str, ...]
    groups: tuple[str, ...]
    frequency: str
    table: Generator
    files: tuple[str, ...] = ("csv", "json")
    links: tuple[Link, ...] = ()
    spatial: str = "city"  # "city", "wkt" (city bounding box), "district:<code>", "district-wkt:<code>"
    temporal: tuple[str, int] = ("years", 5)  # ("years" | "months" | "days", how many before the anchor)
    private: bool = False
    access_rights: AccessRights = "PUBLIC"
    license_id: str = "cc-by-4.0"
