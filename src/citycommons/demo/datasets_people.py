"""Demo datasets about the city's people: statistics, health, culture and participation."""

from __future__ import annotations

from citycommons.demo import tables as t
from citycommons.demo.spec import Spec, T, api, report

NATIONALITIES = [
    "Espanya",
    "Itàlia",
    "França",
    "Resta de la UE",
    "Resta d'Europa",
    "Amèrica del Sud",
    "Amèrica Central i Carib",
    "Àsia",
    "Àfrica",
]
MUSEUMS = [
    "Museu Picasso",
    "Museu d'Història de Barcelona",
    "Museu de Ciències Naturals",
    "Museu del Disseny",
    "Museu Marítim",
    "Fundació Joan Miró",
    "Museu Nacional d'Art de Catalunya",
    "CCCB",
    "MACBA",
    "Museu Etnològic i de Cultures del Món",
    "Museu de la Música",
    "El Born Centre de Cultura i Memòria",
]
LIBRARIES = [
    "Biblioteca Sant Antoni - Joan Oliver",
    "Biblioteca Jaume Fuster",
    "Biblioteca Sagrada Família",
    "Biblioteca Gabriel García Márquez",
    "Biblioteca Vila de Gràcia",
    "Biblioteca Les Corts",
    "Biblioteca Poble Sec",
    "Biblioteca Nou Barris",
    "Biblioteca Ignasi Iglésias",
    "Biblioteca El Clot",
    "Biblioteca Sant Gervasi",
    "Biblioteca Horta - Can Mariner",
]
EVENT_KINDS = [
    "Concert",
    "Teatre",
    "Exposició",
    "Dansa",
    "Cinema",
    "Taller familiar",
    "Conferència",
    "Festa major",
    "Club de lectura",
    "Visita guiada",
]
VENUES = ["Centre Cívic", "Biblioteca", "Casal de Barri", "Ateneu", "Fàbrica de Creació", "Plaça"]


def _event_name(c: t.Ctx, i: int) -> str:
    kind = c.rng.choice(EVENT_KINDS)
    topic = c.rng.choice(
        [
            "de primavera",
            "de tardor",
            "jove",
            "al carrer",
            "de barri",
            "comunitari",
            "d'estiu",
            "en família",
            "de jazz",
            "de poesia",
            "de cultura popular",
            "d'art contemporani",
        ]
    )
    return f"{kind} {topic}"


def _event_date(c: t.Ctx, i: int) -> str:
    return (c.anchor + t.timedelta(days=c.rng.randint(-120, 90))).isoformat()


def _proposal(c: t.Ctx, i: int) -> str:
    what = c.rng.choice(
        [
            "Pacificar el carrer",
            "Nou espai de jocs infantils a",
            "Renovar l'enllumenat de",
            "Horts urbans a",
            "Pista esportiva oberta a",
            "Més ombra i bancs a",
            "Refugi climàtic a",
            "Camí escolar segur a",
            "Mural participatiu a",
            "Punt de reparació de bicicletes a",
        ]
    )
    return f"{what} {c.rng.choice(t.STREETS)}"


STATISTICS = (
    Spec(
        "padro-edat-sexe",
        "estadistica",
        T(
            "Població per sexe i edat quinquennal per barri",
            "Población por sexo y edad quinquenal por barrio",
            "Population by sex and five-year age group by neighbourhood",
        ),
        T(
            "Persones empadronades a 1 de gener a cada barri, per sexe i grups d'edat de cinc anys. Font: Padró "
            "Municipal d'Habitants.",
            "Personas empadronadas a 1 de enero en cada barrio, por sexo y grupos de edad de cinco años. Fuente: "
            "Padrón Municipal de Habitantes.",
            "People registered on 1 January in each neighbourhood, by sex and five-year age group. Source: Municipal "
            "Register of Inhabitants.",
        ),
        ("SOCI",),
        ("població", "padró", "edat", "demografia"),
        ("poblacio",),
        "ANNUAL",
        t.population_by_age(),
        files=("csv", "csv-latin1", "json"),
        links=(report("padro"),),
        temporal=("years", 1),
    ),
    Spec(
        "renda-familiar",
        "estadistica",
        T(
            "Índex de renda familiar disponible per barri",
            "Índice de renta familiar disponible por barrio",
            "Household disposable income index by neighbourhood",
        ),
        T(
            "Renda familiar disponible per habitant de cada barri en relació amb la mitjana de la ciutat "
            "(Barcelona = 100).",
            "Renta familiar disponible por habitante de cada barrio en relación con la media de la ciudad "
            "(Barcelona = 100).",
            "Household disposable income per resident of each neighbourhood relative to the city average "
            "(Barcelona = 100).",
        ),
        ("ECON", "SOCI"),
        ("renda", "desigualtat", "economia"),
        ("economia-i-empresa", "poblacio"),
        "ANNUAL",
        t.by_neighbourhood("Index_RFD_Barcelona_100", base=100, spread=0.55, decimals=1, years=8),
        links=(report("renda-familiar"),),
        temporal=("years", 8),
    ),
    Spec(
        "naixements",
        "estadistica",
        T("Naixements per barri", "Nacimientos por barrio", "Births by neighbourhood"),
        T(
            "Nombre de nascuts vius de mares residents a cada barri i any.",
            "Número de nacidos vivos de madres residentes en cada barrio y año.",
            "Live births to mothers resident in each neighbourhood, by year.",
        ),
        ("SOCI", "HEAL"),
        ("naixements", "natalitat", "demografia"),
        ("poblacio",),
        "ANNUAL",
        t.by_neighbourhood("Naixements", base=7.4, spread=0.25, trend=-0.02, decimals=0, years=8, per_capita=True),
        files=("csv",),
        temporal=("years", 8),
    ),
    Spec(
        "defuncions",
        "estadistica",
        T("Defuncions per barri", "Defunciones por barrio", "Deaths by neighbourhood"),
        T(
            "Nombre de defuncions de persones residents a cada barri i any.",
            "Número de defunciones de personas residentes en cada barrio y año.",
            "Deaths of people resident in each neighbourhood, by year.",
        ),
        ("SOCI", "HEAL"),
        ("defuncions", "mortalitat", "demografia"),
        ("poblacio",),
        "ANNUAL",
        t.by_neighbourhood("Defuncions", base=9.1, spread=0.3, decimals=0, years=8, per_capita=True),
        files=("csv",),
        temporal=("years", 8),
    ),
    Spec(
        "atur-registrat",
        "estadistica",
        T("Atur registrat per districte", "Paro registrado por distrito", "Registered unemployment by district"),
        T(
            "Persones aturades inscrites a les oficines de Treball cada mes a cada districte i pes de l'atur sobre "
            "la població de 16 a 64 anys.",
            "Personas en paro inscritas en las oficinas de Empleo cada mes en cada distrito y peso del paro sobre la "
            "población de 16 a 64 años.",
            "Unemployed people registered at the job centres each month in each district, and their share of the "
            "population aged 16 to 64.",
        ),
        ("ECON", "SOCI"),
        ("atur", "ocupació", "mercat de treball"),
        ("economia-i-empresa",),
        "MONTHLY",
        t.district_monthly([("Persones_aturades", 4300, -0.06, 0), ("Pes_atur_pct", 6.4, -0.06, 2)]),
        files=("csv-latin1", "json"),
        temporal=("months", 24),
    ),
    Spec(
        "poblacio-nacionalitat",
        "estadistica",
        T(
            "Població per nacionalitat i barri",
            "Población por nacionalidad y barrio",
            "Population by nationality and neighbourhood",
        ),
        T(
            "Persones empadronades a cada barri per grup de nacionalitat, a 1 de gener de cada any.",
            "Personas empadronadas en cada barrio por grupo de nacionalidad, a 1 de enero de cada año.",
            "People registered in each neighbourhood by nationality group, on 1 January of each year.",
        ),
        ("SOCI",),
        ("població", "nacionalitat", "migració"),
        ("poblacio",),
        "ANNUAL",
        t.by_category(NATIONALITIES, "Persones", base=2600, years=4, level="neighbourhood"),
        files=("csv",),
        temporal=("years", 4),
    ),
    Spec(
        "llars-per-mida",
        "estadistica",
        T("Llars per nombre de persones", "Hogares por número de personas", "Households by size"),
        T(
            "Nombre de domicilis de cada barri segons el nombre de persones que hi viuen.",
            "Número de domicilios de cada barrio según el número de personas que viven en ellos.",
            "Number of dwellings in each neighbourhood by the number of people living in them.",
        ),
        ("SOCI",),
        ("llars", "habitatge", "demografia"),
        ("poblacio",),
        "ANNUAL",
        t.by_category(
            ["1 persona", "2 persones", "3 persones", "4 persones", "5 o més persones"],
            "Llars",
            base=4200,
            years=4,
            level="neighbourhood",
        ),
        temporal=("years", 4),
    ),
    Spec(
        "microdades-padro-mostra",
        "estadistica",
        T(
            "Mostra anonimitzada de microdades del padró",
            "Muestra anonimizada de microdatos del padrón",
            "Anonymised sample of register microdata",
        ),
        T(
            "Mostra de registres individuals del padró (sexe, edat, nacionalitat, barri) per a recerca. Accés "
            "només per a personal investigador acreditat mitjançant conveni.",
            "Muestra de registros individuales del padrón (sexo, edad, nacionalidad, barrio) para investigación. "
            "Acceso solo para personal investigador acreditado mediante convenio.",
            "Sample of individual register records (sex, age, nationality, neighbourhood) for research. Access only "
            "for accredited researchers under an agreement.",
        ),
        ("SOCI",),
        ("microdades", "padró", "recerca"),
        ("poblacio",),
        "ANNUAL",
        t.listing(
            2000,
            [
                ("Registre", lambda c, i: i + 1),
                ("Sexe", lambda c, i: c.rng.choice(["Dona", "Home"])),
                ("Edat", lambda c, i: min(104, int(c.rng.gammavariate(4.2, 10.5)))),
                ("Nacionalitat", lambda c, i: c.rng.choices(NATIONALITIES, [76, 2, 2, 3, 2, 8, 2, 3, 2])[0]),
            ],
            located=False,
        ),
        files=("csv",),
        access_rights="NON_PUBLIC",
        temporal=("years", 1),
        license_id="notspecified",
    ),
)

HEALTH = (
    Spec(
        "centres-atencio-primaria",
        "salut",
        T("Centres d'atenció primària", "Centros de atención primaria", "Primary care centres"),
        T(
            "Centres d'atenció primària (CAP) de la ciutat, amb adreça, horari i àrea bàsica de salut.",
            "Centros de atención primaria (CAP) de la ciudad, con dirección, horario y área básica de salud.",
            "The city's primary care centres (CAP), with address, opening hours and basic health area.",
        ),
        ("HEAL",),
        ("salut", "CAP", "equipaments sanitaris"),
        ("ciutat-i-serveis", "poblacio"),
        "ANNUAL",
        t.facilities(
            "CAP",
            "CAP {barri}",
            per_hood=0.95,
            extra=[("Horari", ("8-20 h", "8-21 h", "24 h")), ("Urgencies", ("Sí", "No", "No"))],
        ),
        files=("csv", "geojson"),
        spatial="wkt",
        temporal=("years", 1),
    ),
    Spec(
        "esperanca-vida",
        "salut",
        T(
            "Esperança de vida en néixer per barri",
            "Esperanza de vida al nacer por barrio",
            "Life expectancy at birth by neighbourhood",
        ),
        T(
            "Anys d'esperança de vida en néixer de la població de cada barri (mitjana mòbil de cinc anys).",
            "Años de esperanza de vida al nacer de la población de cada barrio (media móvil de cinco años).",
            "Life expectancy at birth of each neighbourhood's population in years (five-year moving average).",
        ),
        ("HEAL", "SOCI"),
        ("salut", "esperança de vida", "desigualtat"),
        ("poblacio",),
        "ANNUAL",
        t.by_neighbourhood("Esperanca_vida_anys", base=83.6, spread=0.035, trend=0.002, decimals=1, years=8),
        links=(report("esperanca-vida", "report"),),
        temporal=("years", 8),
    ),
    Spec(
        "inspeccions-alimentaries",
        "salut",
        T(
            "Inspeccions sanitàries d'establiments alimentaris",
            "Inspecciones sanitarias de establecimientos alimentarios",
            "Food safety inspections",
        ),
        T(
            "Inspeccions fetes per l'Agència de Salut Pública a restaurants, bars, comerços i obradors, amb el "
            "resultat.",
            "Inspecciones realizadas por la Agencia de Salud Pública en restaurantes, bares, comercios y obradores, "
            "con el resultado.",
            "Inspections of restaurants, bars, shops and food workshops by the Public Health Agency, with their "
            "outcome.",
        ),
        ("HEAL", "AGRI"),
        ("salut pública", "seguretat alimentària", "inspeccions"),
        ("poblacio",),
        "MONTHLY",
        t.incidents(
            1200,
            [
                ("Restauració", ("Restaurant", "Bar", "Cafeteria")),
                ("Comerç", ("Carnisseria", "Peixateria", "Fruiteria", "Forn de pa")),
                ("Obrador", ("Pastisseria", "Cuina central")),
            ],
            extra=[("Resultat", ("Favorable", "Favorable", "Favorable", "Amb deficiències", "Desfavorable"))],
        ),
        files=("csv", "json"),
        temporal=("days", 365),
    ),
    Spec(
        "enquesta-salut-microdades",
        "salut",
        T(
            "Enquesta de Salut de Barcelona: microdades",
            "Encuesta de Salud de Barcelona: microdatos",
            "Barcelona Health Survey: microdata",
        ),
        T(
            "Respostes individuals anonimitzades de l'Enquesta de Salut de Barcelona. Disponibles per a recerca "
            "amb sol·licitud prèvia a l'Agència de Salut Pública.",
            "Respuestas individuales anonimizadas de la Encuesta de Salud de Barcelona. Disponibles para "
            "investigación con solicitud previa a la Agencia de Salud Pública.",
            "Anonymised individual answers to the Barcelona Health Survey. Available for research on request to "
            "the Public Health Agency.",
        ),
        ("HEAL",),
        ("enquesta", "salut", "microdades"),
        ("poblacio",),
        "BIENNIAL",
        t.listing(
            1500,
            [
                ("Qüestionari", lambda c, i: 10000 + i),
                ("Sexe", lambda c, i: c.rng.choice(["Dona", "Home"])),
                ("Grup_edat", lambda c, i: c.rng.choice(["15-24", "25-44", "45-64", "65-74", "75+"])),
                (
                    "Salut_percebuda",
                    lambda c, i: c.rng.choices(["Molt bona", "Bona", "Regular", "Dolenta"], [20, 50, 22, 8])[0],
                ),
                ("Fuma", lambda c, i: c.rng.choices(["Sí", "No"], [19, 81])[0]),
                ("Activitat_fisica", lambda c, i: c.rng.choice(["Sedentària", "Moderada", "Intensa"])),
            ],
            located=False,
        ),
        files=("csv",),
        links=(report("enquesta-salut"),),
        access_rights="RESTRICTED",
        temporal=("years", 2),
        license_id="notspecified",
    ),
    Spec(
        "temps-espera-cap",
        "salut",
        T(
            "Temps d'espera als CAP (prova pilot)",
            "Tiempos de espera en los CAP (prueba piloto)",
            "Waiting times at primary care centres (pilot)",
        ),
        T(
            "Dies d'espera mitjans per obtenir visita de medicina de família per districte. Prova pilot en "
            "validació, encara no publicada.",
            "Días de espera medios para obtener visita de medicina de familia por distrito. Prueba piloto en "
            "validación, aún no publicada.",
            "Average days to get a family doctor appointment by district. Pilot under validation, not yet published.",
        ),
        ("HEAL",),
        ("salut", "temps d'espera", "CAP"),
        ("poblacio",),
        "MONTHLY",
        t.district_monthly([("Dies_espera_mitjana", 3.2, 0.25, 1), ("Visites", 21000, 0.15, 0)], months=12),
        files=("csv",),
        private=True,
        temporal=("months", 12),
    ),
    Spec(
        "serveis-socials-atencions",
        "salut",
        T(
            "Persones ateses als serveis socials",
            "Personas atendidas en los servicios sociales",
            "People assisted by social services",
        ),
        T(
            "Persones ateses pels centres de serveis socials de cada barri i any, per tipus d'atenció. Dades "
            "sensibles: accés restringit a personal autoritzat.",
            "Personas atendidas por los centros de servicios sociales de cada barrio y año, por tipo de atención. "
            "Datos sensibles: acceso restringido a personal autorizado.",
            "People assisted by the social services centres of each neighbourhood per year, by type of support. "
            "Sensitive data: access restricted to authorised staff.",
        ),
        ("SOCI", "HEAL"),
        ("serveis socials", "vulnerabilitat"),
        ("poblacio",),
        "ANNUAL",
        t.by_category(
            ["Atenció individual", "Ajuts d'urgència", "Servei d'atenció domiciliària", "Teleassistència"],
            "Persones",
            base=900,
            years=4,
            level="neighbourhood",
        ),
        files=("csv",),
        access_rights="RESTRICTED",
        temporal=("years", 4),
    ),
    Spec(
        "farmacies",
        "salut",
        T("Farmàcies", "Farmacias", "Pharmacies"),
        T(
            "Oficines de farmàcia de la ciutat amb adreça i servei de guàrdia.",
            "Oficinas de farmacia de la ciudad con dirección y servicio de guardia.",
            "Pharmacies in the city with address and on-call service.",
        ),
        ("HEAL",),
        ("farmàcies", "salut", "equipaments sanitaris"),
        ("ciutat-i-serveis",),
        "MONTHLY",
        t.facilities(
            "Farmàcia", "Farmàcia {barri}", per_hood=4, extra=[("Guardia", ("No", "No", "No", "Diürna", "24 h"))]
        ),
        files=("csv", "geojson"),
        spatial="wkt",
        temporal=("years", 1),
    ),
)

CULTURE = (
    Spec(
        "agenda-cultural",
        "cultura",
        T("Agenda d'activitats culturals", "Agenda de actividades culturales", "Cultural events calendar"),
        T(
            "Activitats culturals als equipaments municipals i a l'espai públic: data, categoria, lloc i si són "
            "gratuïtes.",
            "Actividades culturales en los equipamientos municipales y en el espacio público: fecha, categoría, "
            "lugar y si son gratuitas.",
            "Cultural events at municipal venues and in public space: date, category, place and whether they are free.",
        ),
        ("EDUC",),
        ("cultura", "agenda", "activitats", "lleure"),
        ("ciutat-i-serveis",),
        "DAILY",
        t.listing(
            900,
            [
                ("Id", lambda c, i: 90000 + i),
                ("Nom", _event_name),
                ("Categoria", lambda c, i: c.rng.choice(EVENT_KINDS)),
                ("Data", _event_date),
                ("Equipament", lambda c, i: c.rng.choice(VENUES)),
                ("Gratuit", lambda c, i: c.rng.choice(["Sí", "Sí", "No"])),
            ],
        ),
        files=("csv", "json", "geojson"),
        links=(api("agenda/v1/activitats"),),
        spatial="wkt",
        temporal=("days", 210),
    ),
    Spec(
        "biblioteques",
        "cultura",
        T("Biblioteques de Barcelona", "Bibliotecas de Barcelona", "Barcelona public libraries"),
        T(
            "Biblioteques públiques municipals amb adreça, superfície i horari d'obertura.",
            "Bibliotecas públicas municipales con dirección, superficie y horario de apertura.",
            "Municipal public libraries with address, floor area and opening hours.",
        ),
        ("EDUC",),
        ("biblioteques", "lectura", "equipaments culturals"),
        ("ciutat-i-serveis",),
        "ANNUAL",
        t.facilities(
            "Biblioteca",
            "Biblioteca {barri}",
            per_hood=0.55,
            extra=[
                ("Superficie_m2", (850, 1200, 1800, 2500, 3400)),
                ("Horari", ("Dl-Ds 10-20.30 h", "Dl-Dv 15.30-20.30 h, Ds 10-14 h")),
            ],
        ),
        files=("csv", "geojson"),
        spatial="wkt",
        temporal=("years", 1),
    ),
    Spec(
        "visitants-museus",
        "cultura",
        T(
            "Visitants dels museus i centres d'exposicions",
            "Visitantes de los museos y centros de exposiciones",
            "Visitors to museums and exhibition centres",
        ),
        T(
            "Visitants mensuals dels principals museus i centres d'exposicions de la ciutat.",
            "Visitantes mensuales de los principales museos y centros de exposiciones de la ciudad.",
            "Monthly visitors to the city's main museums and exhibition centres.",
        ),
        ("EDUC", "ECON"),
        ("museus", "turisme", "cultura"),
        ("ciutat-i-serveis", "economia-i-empresa"),
        "MONTHLY",
        t.series_by_item(MUSEUMS, "Visitants", base=45_000, season=0.3, item_column="Museu"),
        files=("csv-latin1", "json"),
        links=(report("visitants-museus", "report"),),
        temporal=("months", 24),
    ),
    Spec(
        "prestecs-biblioteques",
        "cultura",
        T("Préstecs de les biblioteques", "Préstamos de las bibliotecas", "Library loans"),
        T(
            "Documents prestats cada mes a cada biblioteca de la xarxa municipal.",
            "Documentos prestados cada mes en cada biblioteca de la red municipal.",
            "Items lent every month by each library of the municipal network.",
        ),
        ("EDUC",),
        ("biblioteques", "préstecs", "lectura"),
        ("ciutat-i-serveis",),
        "MONTHLY",
        t.series_by_item(LIBRARIES, "Prestecs", base=9_000, season=-0.25, item_column="Biblioteca"),
        temporal=("months", 24),
        license_id="cc-zero",
    ),
    Spec(
        "centres-civics",
        "cultura",
        T("Centres cívics", "Centros cívicos", "Civic centres"),
        T(
            "Centres cívics i casals de barri de gestió municipal, amb adreça i tipus de gestió.",
            "Centros cívicos y casales de barrio de gestión municipal, con dirección y tipo de gestión.",
            "Municipal civic centres and neighbourhood community centres, with address and type of management.",
        ),
        ("EDUC", "SOCI"),
        ("centres cívics", "equipaments", "cultura de proximitat"),
        ("ciutat-i-serveis",),
        "ANNUAL",
        t.facilities(
            "Centre cívic",
            "Centre Cívic {barri}",
            per_hood=0.7,
            extra=[("Gestio", ("Directa", "Concessió", "Gestió cívica"))],
        ),
        files=("csv", "geojson"),
        spatial="wkt",
        temporal=("years", 1),
    ),
    Spec(
        "equipaments-esportius",
        "cultura",
        T("Equipaments esportius municipals", "Equipamientos deportivos municipales", "Municipal sports facilities"),
        T(
            "Poliesportius, piscines, camps de futbol i pistes esportives municipals.",
            "Polideportivos, piscinas, campos de fútbol y pistas deportivas municipales.",
            "Municipal sports centres, swimming pools, football pitches and sports courts.",
        ),
        ("EDUC", "HEAL"),
        ("esports", "equipaments esportius", "piscines"),
        ("ciutat-i-serveis",),
        "ANNUAL",
        t.facilities(
            "Equipament esportiu",
            "Poliesportiu {barri}",
            per_hood=1.3,
            extra=[
                (
                    "Instal·lacio",
                    ("Pavelló", "Piscina coberta", "Camp de futbol", "Pista poliesportiva", "Piscina d'estiu"),
                )
            ],
        ),
        files=("csv", "geojson"),
        spatial="wkt",
        temporal=("years", 1),
    ),
)

PARTICIPATION = (
    Spec(
        "pressupostos-participatius",
        "participacio",
        T(
            "Pressupostos participatius: propostes",
            "Presupuestos participativos: propuestas",
            "Participatory budgeting: proposals",
        ),
        T(
            "Propostes ciutadanes presentades als pressupostos participatius, amb els suports rebuts, l'import "
            "estimat i l'estat.",
            "Propuestas ciudadanas presentadas a los presupuestos participativos, con los apoyos recibidos, el "
            "importe estimado y el estado.",
            "Citizen proposals submitted to participatory budgeting, with the support received, estimated cost and "
            "status.",
        ),
        ("GOVE", "SOCI"),
        ("participació", "pressupostos participatius", "propostes"),
        ("administracio",),
        "IRREG",
        t.listing(
            600,
            [
                ("Id", lambda c, i: 3000 + i),
                ("Titol", _proposal),
                ("Suports", lambda c, i: int(c.rng.paretovariate(1.3) * 12)),
                ("Import_estimat_EUR", lambda c, i: c.rng.choice([15_000, 40_000, 90_000, 250_000, 600_000])),
                (
                    "Estat",
                    lambda c, i: c.rng.choices(
                        ["Seleccionada", "Votació", "Descartada", "Executada"], [20, 35, 35, 10]
                    )[0],
                ),
            ],
        ),
        files=("csv", "json", "geojson"),
        spatial="wkt",
        temporal=("years", 2),
    ),
    Spec(
        "incidencies-iris",
        "participacio",
        T(
            "Incidències i queixes ciutadanes (IRIS)",
            "Incidencias y quejas ciudadanas (IRIS)",
            "Citizen requests and complaints (IRIS)",
        ),
        T(
            "Incidències, queixes, suggeriments i consultes adreçats a l'Ajuntament pel sistema IRIS: data, barri, "
            "àmbit i canal d'entrada.",
            "Incidencias, quejas, sugerencias y consultas dirigidas al Ayuntamiento mediante el sistema IRIS: fecha, "
            "barrio, ámbito y canal de entrada.",
            "Incidents, complaints, suggestions and questions sent to the City Council through the IRIS system: "
            "date, neighbourhood, topic and channel.",
        ),
        ("GOVE", "SOCI"),
        ("IRIS", "queixes", "incidències", "atenció ciutadana"),
        ("administracio",),
        "MONTHLY",
        t.incidents(
            3000,
            [
                ("Espai públic", ("Neteja", "Enllumenat", "Paviment", "Mobiliari urbà")),
                ("Medi ambient", ("Soroll", "Arbrat", "Plagues")),
                ("Mobilitat", ("Senyalització", "Aparcament", "Bicicletes")),
                ("Serveis", ("Tràmits", "Tributs", "Serveis socials")),
            ],
            extra=[
                ("Tipus", ("Incidència", "Queixa", "Suggeriment", "Consulta")),
                ("Canal", ("Web", "Telèfon 010", "App", "Presencial", "Xarxes socials")),
            ],
        ),
        files=("csv-latin1", "json"),
        links=(api("iris/v1/peticions"),),
        temporal=("days", 365),
    ),
    Spec(
        "consultes-ciutadanes",
        "participacio",
        T(
            "Resultats de les consultes ciutadanes",
            "Resultados de las consultas ciudadanas",
            "Results of citizen consultations",
        ),
        T(
            "Vots emesos a les consultes ciutadanes per districte i opció.",
            "Votos emitidos en las consultas ciudadanas por distrito y opción.",
            "Votes cast in citizen consultations by district and option.",
        ),
        ("GOVE",),
        ("consultes", "participació", "votacions"),
        ("administracio",),
        "IRREG",
        t.by_category(["Sí", "No", "En blanc"], "Vots", base=2400, years=3),
        temporal=("years", 3),
    ),
    Spec(
        "entitats-registre",
        "participacio",
        T("Registre municipal d'entitats", "Registro municipal de entidades", "Municipal register of associations"),
        T(
            "Associacions i entitats inscrites al registre municipal, amb l'àmbit d'actuació i el domicili social.",
            "Asociaciones y entidades inscritas en el registro municipal, con el ámbito de actuación y el domicilio "
            "social.",
            "Associations registered with the city, with their field of activity and registered address.",
        ),
        ("SOCI", "GOVE"),
        ("entitats", "associacions", "teixit associatiu"),
        ("administracio",),
        "MONTHLY",
        t.facilities(
            "Entitat",
            "Associació Veïnal {barri}",
            per_hood=4,
            extra=[("Ambit", ("Veïnal", "Cultural", "Esportiu", "Educatiu", "Social", "Ambiental"))],
        ),
        files=("csv", "geojson"),
        spatial="wkt",
        temporal=("years", 1),
    ),
    Spec(
        "superilla-sant-antoni-enquesta",
        "participacio",
        T(
            "Enquesta de satisfacció de la superilla de Sant Antoni",
            "Encuesta de satisfacción de la supermanzana de Sant Antoni",
            "Sant Antoni superblock satisfaction survey",
        ),
        T(
            "Valoracions dels veïns i veïnes sobre els canvis de l'espai públic a la superilla de Sant Antoni.",
            "Valoraciones de los vecinos y vecinas sobre los cambios del espacio público en la supermanzana de Sant "
            "Antoni.",
            "Residents' ratings of the changes to public space in the Sant Antoni superblock.",
        ),
        ("GOVE", "TRAN"),
        ("superilla", "enquesta", "espai públic"),
        ("administracio", "territori"),
        "NEVER",
        t.listing(
            800,
            [
                ("Resposta", lambda c, i: i + 1),
                (
                    "Valoracio_general",
                    lambda c, i: c.rng.choices(range(0, 11), [1, 1, 1, 2, 3, 6, 9, 15, 20, 14, 8])[0],
                ),
                ("Soroll", lambda c, i: c.rng.choice(["Ha millorat", "Igual", "Ha empitjorat"])),
                ("Us_espai_public", lambda c, i: c.rng.choice(["Més", "Igual", "Menys"])),
            ],
            located=False,
            only=[10],
        ),
        files=("csv",),
        spatial="district-wkt:2",
        temporal=("years", 1),
    ),
)
