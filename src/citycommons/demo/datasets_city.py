"""Demo datasets of the city's territory and money: environment, mobility, urban planning, finance."""

from __future__ import annotations

from citycommons.demo import tables as t
from citycommons.demo.spec import Link, Spec, T, api, report

ENVIRONMENT = (
    Spec(
        "qualitat-aire-estacions",
        "medi-ambient",
        T(
            "Estacions de mesura de la qualitat de l'aire",
            "Estaciones de medición de la calidad del aire",
            "Air quality monitoring stations",
        ),
        T(
            "Ubicació, tipus i contaminants mesurats de les estacions de la Xarxa de Vigilància i Previsió de la "
            "Contaminació Atmosfèrica a Barcelona.",
            "Ubicación, tipo y contaminantes medidos de las estaciones de la Red de Vigilancia y Previsión de la "
            "Contaminación Atmosférica en Barcelona.",
            "Location, type and measured pollutants of the stations of the air pollution monitoring network in "
            "Barcelona.",
        ),
        ("ENVI",),
        ("aire", "contaminació", "estacions", "medi ambient"),
        ("territori",),
        "IRREG",
        t.air_stations(),
        files=("csv", "geojson"),
        spatial="wkt",
    ),
    Spec(
        "qualitat-aire-dades-horaries",
        "medi-ambient",
        T(
            "Qualitat de l'aire: dades horàries de NO2, PM10 i O3",
            "Calidad del aire: datos horarios de NO2, PM10 y O3",
            "Air quality: hourly NO2, PM10 and O3 readings",
        ),
        T(
            "Concentracions horàries de diòxid de nitrogen, partícules PM10 i ozó a cada estació de mesura durant la "
            "darrera setmana. Valors en µg/m³; la columna Validat indica si la dada ha estat validada (V) o no (N).",
            "Concentraciones horarias de dióxido de nitrógeno, partículas PM10 y ozono en cada estación de medición "
            "durante la última semana. Valores en µg/m³; la columna Validat indica si el dato ha sido validado (V) o "
            "no (N).",
            "Hourly concentrations of nitrogen dioxide, PM10 particles and ozone at each monitoring station over the "
            "last week. Values in µg/m³; the Validat column tells whether a reading was validated (V) or not (N).",
        ),
        ("ENVI", "HEAL"),
        ("aire", "contaminació", "NO2", "PM10", "ozó", "temps real"),
        ("territori",),
        "HOURLY",
        t.air_quality_hourly(7),
        files=("csv", "csv-latin1"),
        links=(api("qualitat-aire/v1/mesures"),),
        temporal=("days", 7),
    ),
    Spec(
        "arbrat-viari",
        "medi-ambient",
        T(
            "Arbrat viari per espècie i barri",
            "Arbolado viario por especie y barrio",
            "Street trees by species and neighbourhood",
        ),
        T(
            "Nombre d'arbres dels carrers de la ciutat per espècie i barri, amb l'alçada mitjana. Inventari municipal "
            "de l'arbrat gestionat per Parcs i Jardins.",
            "Número de árboles de las calles de la ciudad por especie y barrio, con la altura media. Inventario "
            "municipal del arbolado gestionado por Parques y Jardines.",
            "Number of street trees by species and neighbourhood, with their mean height. Municipal inventory of the "
            "trees managed by the Parks and Gardens institute.",
        ),
        ("ENVI",),
        ("arbres", "verd urbà", "biodiversitat", "espècies"),
        ("territori",),
        "ANNUAL",
        t.trees(),
        files=("csv-latin1", "json"),
        temporal=("years", 1),
    ),
    Spec(
        "mapa-estrategic-soroll",
        "medi-ambient",
        T(
            "Mapa estratègic de soroll: població exposada",
            "Mapa estratégico de ruido: población expuesta",
            "Strategic noise map: exposed population",
        ),
        T(
            "Percentatge i nombre de residents de cada barri per franja de nivell sonor Lden (dia-vespre-nit), "
            "segons el mapa estratègic de soroll de la ciutat.",
            "Porcentaje y número de residentes de cada barrio por franja de nivel sonoro Lden (día-tarde-noche), "
            "según el mapa estratégico de ruido de la ciudad.",
            "Share and number of residents of each neighbourhood per Lden (day-evening-night) noise band, from the "
            "city's strategic noise map.",
        ),
        ("ENVI", "HEAL"),
        ("soroll", "contaminació acústica", "Lden"),
        ("territori",),
        "ANNUAL",
        t.noise_exposure("Lden"),
        files=("csv", "json"),
        links=(
            Link(T("Mapa de soroll (WMS)", "Mapa de ruido (WMS)", "Noise map (WMS)"), "wms/soroll", "WMS_SRVC"),
            report("mapa-estrategic-soroll", "report"),
        ),
        temporal=("years", 1),
    ),
    Spec(
        "residus-recollida-selectiva",
        "medi-ambient",
        T(
            "Recollida de residus municipals per fracció",
            "Recogida de residuos municipales por fracción",
            "Municipal waste collection by fraction",
        ),
        T(
            "Tones de residus recollits cada mes a cada districte: rebuig, orgànica, paper i cartró, envasos i vidre.",
            "Toneladas de residuos recogidos cada mes en cada distrito: resto, orgánica, papel y cartón, envases y "
            "vidrio.",
            "Tonnes of waste collected every month in each district: residual, organic, paper and cardboard, "
            "packaging and glass.",
        ),
        ("ENVI",),
        ("residus", "reciclatge", "recollida selectiva"),
        ("territori", "ciutat-i-serveis"),
        "MONTHLY",
        t.district_monthly(
            [
                ("Rebuig_t", 2100, 0.05, 1),
                ("Organica_t", 560, 0.08, 1),
                ("Paper_Carto_t", 310, 0.1, 1),
                ("Envasos_t", 240, 0.12, 1),
                ("Vidre_t", 190, 0.2, 1),
            ]
        ),
        temporal=("months", 24),
    ),
    Spec(
        "fonts-publiques",
        "medi-ambient",
        T("Fonts d'aigua potable", "Fuentes de agua potable", "Drinking water fountains"),
        T(
            "Localització de les fonts d'aigua de boca de la via pública, amb el seu tipus.",
            "Localización de las fuentes de agua de boca de la vía pública, con su tipo.",
            "Location of the public drinking water fountains in the street, with their type.",
        ),
        ("ENVI", "HEAL"),
        ("aigua", "fonts", "espai públic"),
        ("ciutat-i-serveis",),
        "ANNUAL",
        t.facilities(
            "Font",
            "Font {barri}",
            per_hood=22,
            extra=[("Model", ("Font de Barcelona", "Font Wallace", "Font moderna", "Font amb brollador"))],
        ),
        files=("csv", "geojson"),
        spatial="wkt",
        temporal=("years", 1),
    ),
    Spec(
        "consum-aigua",
        "medi-ambient",
        T("Consum d'aigua per districte i ús", "Consumo de agua por distrito y uso", "Water use by district and use"),
        T(
            "Metres cúbics d'aigua facturats cada mes a cada districte per a ús domèstic, comercial i industrial.",
            "Metros cúbicos de agua facturados cada mes en cada distrito para uso doméstico, comercial e industrial.",
            "Cubic metres of water billed every month in each district for domestic, commercial and industrial use.",
        ),
        ("ENVI",),
        ("aigua", "consum", "sostenibilitat"),
        ("territori",),
        "MONTHLY",
        t.district_monthly(
            [("Domestic_m3", 290_000, 0.15, 0), ("Comercial_m3", 85_000, 0.1, 0), ("Industrial_m3", 40_000, 0.05, 0)]
        ),
        files=("csv-latin1", "json"),
        temporal=("months", 24),
        license_id="cc-zero",
    ),
    Spec(
        "consum-energia-edificis-municipals",
        "medi-ambient",
        T(
            "Consum d'energia dels edificis municipals",
            "Consumo de energía de los edificios municipales",
            "Energy use of municipal buildings",
        ),
        T(
            "Consum elèctric mensual (kWh) dels principals edificis i equipaments de l'Ajuntament.",
            "Consumo eléctrico mensual (kWh) de los principales edificios y equipamientos del Ayuntamiento.",
            "Monthly electricity use (kWh) of the City Council's main buildings and facilities.",
        ),
        ("ENER", "ENVI"),
        ("energia", "electricitat", "edificis municipals"),
        ("administracio",),
        "MONTHLY",
        t.series_by_item(
            [
                "Casa de la Ciutat",
                "Edifici Novíssim",
                "Mercat de Sant Antoni",
                "Biblioteca Sant Antoni",
                "Poliesportiu Municipal Can Ricart",
                "Seu del Districte de Gràcia",
                "Centre Cívic La Sedeta",
                "Edifici Tànger",
                "Museu Picasso",
                "Palau de la Virreina",
            ],
            "Consum_kWh",
            base=95_000,
            item_column="Edifici",
        ),
        temporal=("months", 24),
    ),
)

MOBILITY = (
    Spec(
        "carril-bici",
        "mobilitat",
        T("Xarxa de carril bici per districte", "Red de carril bici por distrito", "Bike lane network by district"),
        T(
            "Quilòmetres de vies ciclables a cada districte i any, per tipologia: carril segregat, carril bici "
            "en calçada, vorera bici i carrer de prioritat invertida.",
            "Kilómetros de vías ciclables en cada distrito y año, por tipología: carril segregado, carril bici en "
            "calzada, acera bici y calle de prioridad invertida.",
            "Kilometres of cycle lanes in each district and year, by type: segregated lane, on-road lane, "
            "pavement lane and low-speed shared street.",
        ),
        ("TRAN",),
        ("bicicleta", "carril bici", "mobilitat sostenible"),
        ("ciutat-i-serveis",),
        "ANNUAL",
        t.by_category(
            ["Carril segregat", "Carril bici en calçada", "Vorera bici", "Carrer de prioritat invertida"],
            "Longitud_km",
            base=7.5,
            years=6,
            decimals=2,
        ),
        temporal=("years", 6),
    ),
    Spec(
        "aforaments-transit",
        "mobilitat",
        T("Aforaments de trànsit horaris", "Aforos de tráfico horarios", "Hourly traffic counts"),
        T(
            "Vehicles comptats cada hora pels aforadors automàtics de la xarxa viària durant la darrera setmana.",
            "Vehículos contados cada hora por los aforadores automáticos de la red viaria durante la última semana.",
            "Vehicles counted every hour by the automatic traffic counters of the road network over the last week.",
        ),
        ("TRAN",),
        ("trànsit", "aforaments", "vehicles"),
        ("ciutat-i-serveis",),
        "DAILY",
        t.sensor_hourly("ATR", 20, "Vehicles", base=1400),
        files=("csv", "json"),
        temporal=("days", 7),
    ),
    Spec(
        "ocupacio-aparcaments",
        "mobilitat",
        T("Ocupació dels aparcaments públics", "Ocupación de los aparcamientos públicos", "Public car park occupancy"),
        T(
            "Places lliures i percentatge d'ocupació de cada aparcament públic municipal, hora a hora.",
            "Plazas libres y porcentaje de ocupación de cada aparcamiento público municipal, hora a hora.",
            "Free spaces and occupancy rate of each municipal public car park, hour by hour.",
        ),
        ("TRAN",),
        ("aparcament", "ocupació", "vehicles"),
        ("ciutat-i-serveis",),
        "HOURLY",
        t.sensor_hourly("BSM", 18, "", base=420, capacity=True),
        files=("csv", "geojson"),
        links=(api("aparcaments/v1/ocupacio"),),
        temporal=("days", 7),
    ),
    Spec(
        "accidents-transit",
        "mobilitat",
        T(
            "Accidents de trànsit gestionats per la Guàrdia Urbana",
            "Accidentes de tráfico gestionados por la Guardia Urbana",
            "Road accidents handled by the City Police",
        ),
        T(
            "Accidents amb víctimes de l'últim any: data, hora, lloc, tipus d'accident i nombre de ferits.",
            "Accidentes con víctimas del último año: fecha, hora, lugar, tipo de accidente y número de heridos.",
            "Accidents with casualties over the last year: date, time, place, type of accident and number of injured.",
        ),
        ("TRAN", "JUST"),
        ("accidents", "seguretat viària", "Guàrdia Urbana"),
        ("ciutat-i-serveis",),
        "MONTHLY",
        t.incidents(
            1800,
            [
                ("Col·lisió", ("Frontal", "Lateral", "Per abast", "Múltiple")),
                ("Atropellament", ("Vianant", "Ciclista")),
                ("Caiguda", ("Motocicleta", "Bicicleta", "VMP")),
            ],
            extra=[
                ("Ferits_lleus", (0, 1, 1, 1, 2, 3)),
                ("Ferits_greus", (0, 0, 0, 0, 0, 1)),
                ("Torn", ("Matí", "Tarda", "Nit")),
            ],
            points=True,
        ),
        files=("csv-latin1", "geojson"),
        temporal=("days", 365),
    ),
    Spec(
        "estacions-bicing",
        "mobilitat",
        T("Estacions de Bicing", "Estaciones de Bicing", "Bicing bike-share stations"),
        T(
            "Estacions del servei públic de bicicleta compartida, amb la seva capacitat i el tipus (mecànica o "
            "elèctrica).",
            "Estaciones del servicio público de bicicleta compartida, con su capacidad y el tipo (mecánica o "
            "eléctrica).",
            "Stations of the public bike-share service, with their capacity and type (mechanical or electric).",
        ),
        ("TRAN",),
        ("bicicleta", "Bicing", "mobilitat sostenible"),
        ("ciutat-i-serveis",),
        "DAILY",
        t.facilities(
            "Estació Bicing",
            "Bicing {barri}",
            per_hood=7,
            extra=[("Capacitat", (18, 21, 24, 27, 30, 33)), ("Tipus_Bicicleta", ("Mecànica", "Mixta"))],
        ),
        files=("csv", "geojson"),
        links=(api("bicing/gbfs/v2/station_information"),),
        spatial="wkt",
        temporal=("days", 30),
    ),
    Spec(
        "zones-aparcament-regulat",
        "mobilitat",
        T(
            "Places d'aparcament regulat (àrea verda i blava)",
            "Plazas de aparcamiento regulado (área verde y azul)",
            "Regulated on-street parking spaces (green and blue zones)",
        ),
        T(
            "Nombre de places d'aparcament regulat a la via pública per barri i tipus de zona.",
            "Número de plazas de aparcamiento regulado en la vía pública por barrio y tipo de zona.",
            "Number of regulated on-street parking spaces by neighbourhood and zone type.",
        ),
        ("TRAN",),
        ("aparcament", "àrea verda", "àrea blava"),
        ("ciutat-i-serveis",),
        "ANNUAL",
        t.by_category(
            ["Àrea verda", "Àrea blava", "Càrrega i descàrrega", "Motos"],
            "Places",
            base=520,
            years=3,
            level="neighbourhood",
        ),
        temporal=("years", 3),
    ),
    Spec(
        "punts-recarrega-vehicle-electric",
        "mobilitat",
        T(
            "Punts de recàrrega de vehicle elèctric",
            "Puntos de recarga de vehículo eléctrico",
            "Electric vehicle charging points",
        ),
        T(
            "Punts públics de recàrrega de vehicles elèctrics, amb el tipus de connector i la potència.",
            "Puntos públicos de recarga de vehículos eléctricos, con el tipo de conector y la potencia.",
            "Public charging points for electric vehicles, with connector type and power.",
        ),
        ("TRAN", "ENER"),
        ("vehicle elèctric", "recàrrega", "energia"),
        ("ciutat-i-serveis",),
        "MONTHLY",
        t.facilities(
            "Punt de recàrrega",
            "Recàrrega {barri}",
            per_hood=1.8,
            extra=[("Connector", ("Mennekes", "CCS Combo", "CHAdeMO", "Schuko")), ("Potencia_kW", (3.7, 7.4, 22, 50))],
        ),
        files=("csv", "geojson"),
        spatial="wkt",
        temporal=("years", 1),
        license_id="cc-zero",
    ),
)

URBAN = (
    Spec(
        "districtes-barris",
        "urbanisme",
        T(
            "Districtes i barris de Barcelona",
            "Distritos y barrios de Barcelona",
            "Districts and neighbourhoods of Barcelona",
        ),
        T(
            "Els 10 districtes (límits esquemàtics) i els 73 barris (centroides) de la ciutat, amb superfície, "
            "població i identificador URI de cadascun.",
            "Los 10 distritos (límites esquemáticos) y los 73 barrios (centroides) de la ciudad, con superficie, "
            "población e identificador URI de cada uno.",
            "The city's 10 districts (schematic boundaries) and 73 neighbourhoods (centroids), each with area, "
            "population and URI.",
        ),
        ("REGI", "GOVE"),
        ("districtes", "barris", "límits administratius", "cartografia"),
        ("territori",),
        "IRREG",
        t.district_shapes(),
        files=("geojson", "csv"),
        spatial="wkt",
        temporal=("years", 1),
    ),
    Spec(
        "llicencies-obres",
        "urbanisme",
        T("Llicències d'obres atorgades", "Licencias de obras concedidas", "Building permits granted"),
        T(
            "Llicències i comunicacions d'obres resoltes durant l'últim any, per tipus d'obra i barri.",
            "Licencias y comunicaciones de obras resueltas durante el último año, por tipo de obra y barrio.",
            "Building permits and works notices decided over the last year, by type of works and neighbourhood.",
        ),
        ("REGI", "ECON"),
        ("llicències", "obres", "urbanisme"),
        ("territori", "economia-i-empresa"),
        "MONTHLY",
        t.incidents(
            1500,
            [
                ("Obra major", ("Nova construcció", "Rehabilitació", "Enderroc", "Ampliació")),
                ("Obra menor", ("Reforma interior", "Façana", "Coberta")),
                ("Comunicat", ("Canvi d'ús", "Instal·lació solar", "Bastida")),
            ],
            extra=[("Estat", ("Atorgada", "Atorgada", "Atorgada", "Denegada", "Desistida"))],
        ),
        files=("csv", "json"),
        temporal=("days", 365),
    ),
    Spec(
        "preu-lloguer",
        "urbanisme",
        T("Preu mitjà del lloguer per barri", "Precio medio del alquiler por barrio", "Average rent by neighbourhood"),
        T(
            "Lloguer mitjà mensual (euros) dels contractes d'habitatge signats cada any a cada barri, a partir de "
            "les fiances dipositades.",
            "Alquiler medio mensual (euros) de los contratos de vivienda firmados cada año en cada barrio, a partir "
            "de las fianzas depositadas.",
            "Average monthly rent (euros) of the housing leases signed each year in each neighbourhood, from the "
            "deposits lodged.",
        ),
        ("ECON", "SOCI"),
        ("habitatge", "lloguer", "preus"),
        ("economia-i-empresa", "poblacio"),
        "ANNUAL",
        t.by_neighbourhood("Lloguer_mitja_EUR_mes", base=1050, spread=0.45, trend=0.055, decimals=2, years=8),
        links=(report("preu-lloguer"),),
        temporal=("years", 8),
    ),
    Spec(
        "habitatges-us-turistic",
        "urbanisme",
        T("Habitatges d'ús turístic", "Viviendas de uso turístico", "Licensed holiday flats"),
        T(
            "Habitatges amb llicència d'ús turístic inscrits al registre, amb el nombre de places.",
            "Viviendas con licencia de uso turístico inscritas en el registro, con el número de plazas.",
            "Flats licensed for tourist use in the register, with their number of beds.",
        ),
        ("ECON", "REGI"),
        ("turisme", "habitatge", "HUT"),
        ("economia-i-empresa",),
        "QUARTERLY",
        t.facilities("HUT", "HUTB-{barri}", per_hood=12, extra=[("Places", (2, 4, 4, 5, 6, 8))]),
        files=("csv", "geojson"),
        spatial="wkt",
        temporal=("years", 1),
    ),
    Spec(
        "parc-habitatge-public",
        "urbanisme",
        T("Parc públic d'habitatge", "Parque público de vivienda", "Public housing stock"),
        T(
            "Habitatges de titularitat pública per barri, any i règim: lloguer social, lloguer assequible i "
            "allotjaments dotacionals.",
            "Viviendas de titularidad pública por barrio, año y régimen: alquiler social, alquiler asequible y "
            "alojamientos dotacionales.",
            "Publicly owned homes by neighbourhood, year and tenure: social rent, affordable rent and supported "
            "housing.",
        ),
        ("SOCI", "REGI"),
        ("habitatge", "habitatge públic", "lloguer social"),
        ("poblacio", "territori"),
        "ANNUAL",
        t.by_category(
            ["Lloguer social", "Lloguer assequible", "Allotjament dotacional"],
            "Habitatges",
            base=180,
            years=5,
            level="neighbourhood",
        ),
    ),
    Spec(
        "superficie-verda",
        "urbanisme",
        T("Superfície verda per habitant", "Superficie verde por habitante", "Green space per resident"),
        T(
            "Metres quadrats de parcs, jardins i verd urbà per habitant a cada barri.",
            "Metros cuadrados de parques, jardines y verde urbano por habitante en cada barrio.",
            "Square metres of parks, gardens and urban green per resident in each neighbourhood.",
        ),
        ("ENVI", "REGI"),
        ("verd urbà", "parcs", "jardins"),
        ("territori",),
        "ANNUAL",
        t.by_neighbourhood("m2_verd_per_habitant", base=7.2, spread=0.8, trend=0.01, decimals=2),
        files=("csv-latin1", "json"),
    ),
)

FINANCE = (
    Spec(
        "pressupost-municipal",
        "hisenda",
        T("Pressupost municipal de despeses", "Presupuesto municipal de gastos", "Municipal expenditure budget"),
        T(
            "Pressupost inicial i obligacions reconegudes per capítol econòmic, programa i òrgan gestor dels "
            "darrers tres exercicis.",
            "Presupuesto inicial y obligaciones reconocidas por capítulo económico, programa y órgano gestor de los "
            "últimos tres ejercicios.",
            "Initial budget and recognised obligations by economic chapter, programme and managing body for the last "
            "three financial years.",
        ),
        ("GOVE", "ECON"),
        ("pressupost", "despesa", "transparència"),
        ("administracio",),
        "ANNUAL",
        t.budget(),
        files=("csv", "csv-latin1", "json"),
        links=(report("pressupost-municipal", "report"),),
        temporal=("years", 3),
    ),
    Spec(
        "contractes-adjudicats",
        "hisenda",
        T("Contractes públics adjudicats", "Contratos públicos adjudicados", "Public contracts awarded"),
        T(
            "Contractes adjudicats per l'Ajuntament en els dos darrers anys: objecte, procediment, adjudicatari i "
            "import.",
            "Contratos adjudicados por el Ayuntamiento en los dos últimos años: objeto, procedimiento, adjudicatario "
            "e importe.",
            "Contracts awarded by the City Council in the last two years: subject, procedure, supplier and amount.",
        ),
        ("GOVE", "ECON"),
        ("contractació", "transparència", "proveïdors"),
        ("administracio",),
        "MONTHLY",
        t.contracts(),
        temporal=("days", 730),
        license_id="odc-by",
    ),
    Spec(
        "ingressos-tributaris",
        "hisenda",
        T("Ingressos tributaris mensuals", "Ingresos tributarios mensuales", "Monthly tax revenue"),
        T(
            "Recaptació mensual (euros) dels principals tributs municipals: IBI, IAE, IVTM, ICIO, plusvàlua i taxes.",
            "Recaudación mensual (euros) de los principales tributos municipales: IBI, IAE, IVTM, ICIO, plusvalía y "
            "tasas.",
            "Monthly revenue (euros) of the main municipal taxes: property tax, business tax, vehicle tax, building "
            "tax, land value tax and fees.",
        ),
        ("GOVE", "ECON"),
        ("tributs", "ingressos", "impostos"),
        ("administracio",),
        "MONTHLY",
        t.series_by_item(
            ["IBI", "IAE", "IVTM", "ICIO", "IIVTNU (plusvàlua)", "Taxa de residus", "Taxa de terrasses"],
            "Recaptacio_EUR",
            base=28_000_000,
            season=0.5,
            item_column="Tribut",
        ),
        files=("csv-latin1", "json"),
        temporal=("months", 24),
    ),
    Spec(
        "pressupost-esborrany",
        "hisenda",
        T(
            "Projecte de pressupost (esborrany intern)",
            "Proyecto de presupuesto (borrador interno)",
            "Draft budget (internal working copy)",
        ),
        T(
            "Esborrany del pressupost de l'exercici vinent en elaboració. Document intern de treball, pendent "
            "d'aprovació inicial.",
            "Borrador del presupuesto del próximo ejercicio en elaboración. Documento interno de trabajo, pendiente "
            "de aprobación inicial.",
            "Draft of next year's budget, in preparation. Internal working document awaiting initial approval.",
        ),
        ("GOVE",),
        ("pressupost", "esborrany"),
        ("administracio",),
        "IRREG",
        t.budget(total_meur=3450, years=1),
        files=("csv",),
        private=True,
        access_rights="NON_PUBLIC",
        temporal=("years", 1),
    ),
    Spec(
        "periode-mitja-pagament",
        "hisenda",
        T(
            "Període mitjà de pagament a proveïdors",
            "Periodo medio de pago a proveedores",
            "Average supplier payment period",
        ),
        T(
            "Dies que triguen de mitjana l'Ajuntament i els seus ens dependents a pagar les factures, mes a mes.",
            "Días que tardan de media el Ayuntamiento y sus entes dependientes en pagar las facturas, mes a mes.",
            "Average number of days the City Council and its agencies take to pay invoices, month by month.",
        ),
        ("GOVE", "ECON"),
        ("proveïdors", "pagaments", "transparència"),
        ("administracio",),
        "MONTHLY",
        t.series_by_item(
            [
                "Ajuntament de Barcelona",
                "Institut Municipal d'Informàtica",
                "Parcs i Jardins",
                "Institut de Cultura",
                "Barcelona Serveis Municipals",
                "Institut Municipal d'Hisenda",
            ],
            "Dies",
            base=24,
            season=0.15,
            item_column="Entitat",
        ),
        temporal=("months", 24),
    ),
    Spec(
        "subvencions-atorgades",
        "hisenda",
        T("Subvencions atorgades", "Subvenciones otorgadas", "Grants awarded"),
        T(
            "Subvencions atorgades a entitats i projectes: àmbit, import i districte on es desenvolupa l'activitat.",
            "Subvenciones otorgadas a entidades y proyectos: ámbito, importe y distrito donde se desarrolla la "
            "actividad.",
            "Grants awarded to associations and projects: field, amount and district where the activity takes place.",
        ),
        ("GOVE", "SOCI"),
        ("subvencions", "entitats", "transparència"),
        ("administracio",),
        "ANNUAL",
        t.listing(
            700,
            [
                ("Expedient", lambda c, i: f"S-{c.anchor.year - 1}-{i + 1:04d}"),
                (
                    "Ambit",
                    lambda c, i: c.rng.choice(
                        ["Cultura", "Esports", "Acció social", "Educació", "Comerç", "Medi ambient", "Participació"]
                    ),
                ),
                ("Import_EUR", lambda c, i: round(c.rng.lognormvariate(8.8, 0.9), 2)),
            ],
            located=False,
        ),
        files=("csv", "json"),
        temporal=("years", 1),
    ),
)
