"""Who publishes the demo city's data: the catalog record, the departments (organisations) and the city's own
thematic groups (those of its open-data portal)."""

from __future__ import annotations

from dataclasses import dataclass

from citycommons.demo.places import CITY_URI

CATALOG = {
    "title": {
        "ca": "Dades obertes de Barcelona (demostració)",
        "es": "Datos abiertos de Barcelona (demostración)",
        "en": "Barcelona Open Data (demo)",
    },
    "description": {
        "ca": "Catàleg de dades obertes de l'Ajuntament de Barcelona: població, medi ambient, mobilitat, "
        "urbanisme, salut, cultura, pressupostos i participació, per districtes i barris. Les dades d'aquesta "
        "instal·lació de demostració són generades i no són oficials.",
        "es": "Catálogo de datos abiertos del Ayuntamiento de Barcelona: población, medio ambiente, movilidad, "
        "urbanismo, salud, cultura, presupuestos y participación, por distritos y barrios. Los datos de esta "
        "instalación de demostración son generados y no son oficiales.",
        "en": "Open data catalogue of Barcelona City Council: population, environment, mobility, urban planning, "
        "health, culture, budgets and participation, by district and neighbourhood. The data in this demo "
        "installation are generated and are not official.",
    },
    "publisher_name": "Ajuntament de Barcelona",
    "publisher_url": "https://ajuntament.barcelona.cat",
    "publisher_email": "dades.obertes@barcelona.example",
    "homepage": "https://ajuntament.barcelona.cat",
    "spatial_uri": CITY_URI,
    "languages": ["CAT", "SPA", "ENG"],
    "license_id": "cc-by-4.0",
}


@dataclass(frozen=True)
class Department:
    name: str
    title: dict[str, str]
    description: dict[str, str]

    @property
    def email(self) -> str:
        return f"{self.name}@barcelona.example"

    @property
    def editor(self) -> str:
        return f"editor-{self.name}"


DEPARTMENTS = (
    Department(
        "medi-ambient",
        {
            "ca": "Medi Ambient i Sostenibilitat",
            "es": "Medio Ambiente y Sostenibilidad",
            "en": "Environment and Sustainability",
        },
        {
            "ca": "Qualitat de l'aire, soroll, arbrat, verd urbà, residus, aigua i energia de la ciutat.",
            "es": "Calidad del aire, ruido, arbolado, verde urbano, residuos, agua y energía de la ciudad.",
            "en": "Air quality, noise, street trees, urban green, waste, water and energy in the city.",
        },
    ),
    Department(
        "mobilitat",
        {
            "ca": "Mobilitat i Infraestructures",
            "es": "Movilidad e Infraestructuras",
            "en": "Mobility and Infrastructure",
        },
        {
            "ca": "Carril bici, trànsit, aparcaments, accidents i transport públic.",
            "es": "Carril bici, tráfico, aparcamientos, accidentes y transporte público.",
            "en": "Bike lanes, traffic, car parks, road accidents and public transport.",
        },
    ),
    Department(
        "urbanisme",
        {"ca": "Urbanisme i Habitatge", "es": "Urbanismo y Vivienda", "en": "Urban Planning and Housing"},
        {
            "ca": "Planejament, llicències d'obres, habitatge, lloguers i límits administratius.",
            "es": "Planeamiento, licencias de obras, vivienda, alquileres y límites administrativos.",
            "en": "Planning, building permits, housing, rents and administrative boundaries.",
        },
    ),
    Department(
        "estadistica",
        {
            "ca": "Estadística i Difusió de Dades",
            "es": "Estadística y Difusión de Datos",
            "en": "Statistics and Data Dissemination",
        },
        {
            "ca": "Padró municipal, demografia, renda i indicadors socioeconòmics per barris.",
            "es": "Padrón municipal, demografía, renta e indicadores socioeconómicos por barrios.",
            "en": "Municipal register, demography, income and socio-economic indicators by neighbourhood.",
        },
    ),
    Department(
        "salut",
        {"ca": "Salut Pública", "es": "Salud Pública", "en": "Public Health"},
        {
            "ca": "Equipaments sanitaris, esperança de vida, inspeccions alimentàries i enquestes de salut.",
            "es": "Equipamientos sanitarios, esperanza de vida, inspecciones alimentarias y encuestas de salud.",
            "en": "Health facilities, life expectancy, food inspections and health surveys.",
        },
    ),
    Department(
        "cultura",
        {"ca": "Cultura", "es": "Cultura", "en": "Culture"},
        {
            "ca": "Biblioteques, museus, equipaments i agenda d'activitats culturals.",
            "es": "Bibliotecas, museos, equipamientos y agenda de actividades culturales.",
            "en": "Libraries, museums, cultural venues and the events calendar.",
        },
    ),
    Department(
        "hisenda",
        {"ca": "Hisenda", "es": "Hacienda", "en": "Finance"},
        {
            "ca": "Pressupost municipal, execució, contractació pública i tributs.",
            "es": "Presupuesto municipal, ejecución, contratación pública y tributos.",
            "en": "Municipal budget, execution, public procurement and local taxes.",
        },
    ),
    Department(
        "participacio",
        {"ca": "Participació Ciutadana", "es": "Participación Ciudadana", "en": "Citizen Participation"},
        {
            "ca": "Pressupostos participatius, consultes, peticions i incidències ciutadanes.",
            "es": "Presupuestos participativos, consultas, peticiones e incidencias ciudadanas.",
            "en": "Participatory budgeting, consultations, petitions and citizen requests.",
        },
    ),
)

# The top-level categories of the city's own portal.
GROUPS = (
    (
        "poblacio",
        {"ca": "Població", "es": "Población", "en": "Population"},
        {
            "ca": "Qui viu a la ciutat: padró, demografia, salut i condicions de vida.",
            "es": "Quién vive en la ciudad: padrón, demografía, salud y condiciones de vida.",
            "en": "Who lives in the city: register, demography, health and living conditions.",
        },
    ),
    (
        "territori",
        {"ca": "Territori", "es": "Territorio", "en": "Territory"},
        {
            "ca": "El territori i el medi: límits, urbanisme, qualitat ambiental i verd.",
            "es": "El territorio y el medio: límites, urbanismo, calidad ambiental y verde.",
            "en": "Land and environment: boundaries, planning, environmental quality and green space.",
        },
    ),
    (
        "ciutat-i-serveis",
        {"ca": "Ciutat i serveis", "es": "Ciudad y servicios", "en": "City and services"},
        {
            "ca": "Equipaments, mobilitat, cultura i serveis municipals.",
            "es": "Equipamientos, movilidad, cultura y servicios municipales.",
            "en": "Facilities, mobility, culture and municipal services.",
        },
    ),
    (
        "economia-i-empresa",
        {"ca": "Economia i empresa", "es": "Economía y empresa", "en": "Economy and business"},
        {
            "ca": "Activitat econòmica, ocupació, turisme i comerç.",
            "es": "Actividad económica, empleo, turismo y comercio.",
            "en": "Economic activity, employment, tourism and trade.",
        },
    ),
    (
        "administracio",
        {"ca": "Administració", "es": "Administración", "en": "Administration"},
        {
            "ca": "Pressupostos, contractació, transparència i participació.",
            "es": "Presupuestos, contratación, transparencia y participación.",
            "en": "Budgets, procurement, transparency and participation.",
        },
    ),
)
