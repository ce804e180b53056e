"""Demo entries of the register for the Barcelona demo city: plausible systems in several states and risk levels,
linked to the demo datasets that exist. Idempotent: an entry whose slug exists is left alone.

Called by the demo builder as ``seed(session=..., reviewer=SYSTEM)`` after the catalog is built. Entries are
published by ``reviewer`` with self-publishing allowed (there is no second person in a demo).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citycommons.actor import SYSTEM, Actor
from citycommons.catalog.models import Dataset, Organization
from citycommons.registers import service
from citycommons.registers.models import AlgorithmVersion
from citycommons.registers.schemas import AlgorithmCreate, TransitionRequest

BASE: dict[str, Any] = {
    "contact": "algorismes@bcn.example.org",
    "language": "cat",
    "personal_data": "none",
    "decision_role": "informs_human",
    "appeal_and_objection": "Qualsevol persona pot presentar una queixa a l'Oficina d'Atenció Ciutadana o a la "
    "Síndica de Greuges; una persona revisa cada queixa.",
    "public_page_url": "https://ajuntament.barcelona.cat/digital/ca",
}
# (target record state, organisation name, fields, [(dataset name, role)])
ENTRIES: list[tuple[str, str, dict[str, Any], list[tuple[str, str]]]] = [
    (
        "published",
        "mobilitat",
        {
            "slug": "prediccio-ocupacio-bicing",
            "name": "Predicció de l'ocupació de les estacions de Bicing",
            "description_short": "Preveu quantes bicicletes i ancoratges lliures tindrà cada estació la propera hora.",
            "status": "in_use",
            "begin_date": "2022-05",
            "phase_detail": "production",
            "publication_category": "other",
            "ai_act_class": "minimal",
            "model_type": "machine_learning",
            "goal_and_impact": "Ajuda l'equip de redistribució a moure bicicletes abans que una estació es buidi.",
            "human_oversight": "Els coordinadors de torn decideixen cada trasllat a partir de la previsió.",
            "data_description": "Ocupació de les estacions cada cinc minuts, calendari i previsió meteorològica.",
            "themes": ["traffic"],
            "principles": [3, 5],
            "supplier": "Desenvolupat internament",
        },
        [("estacions-bicing", "operating"), ("estacions-bicing", "training")],
    ),
    (
        "published",
        "mobilitat",
        {
            "slug": "semafors-adaptatius",
            "name": "Regulació adaptativa dels semàfors",
            "description_short": "Ajusta la durada dels cicles semafòrics segons el trànsit mesurat als aforadors.",
            "status": "in_use",
            "begin_date": "2019-09",
            "publication_category": "impactful",
            "ai_act_class": "not_high_risk_art_6_3",
            "model_type": "rules",
            "decision_role": "decides_with_review",
            "goal_and_impact": "Redueix les esperes i prioritza el transport públic a les cruïlles.",
            "human_oversight": "El centre de control de trànsit supervisa i pot fixar plans manuals.",
            "data_description": "Aforaments de trànsit en temps real i prioritat d'autobusos.",
            "themes": ["traffic", "spatial_planning_and_infrastructure"],
            "principles": [3],
            "supplier": "Proveïdor extern de sistemes de trànsit",
        },
        [("aforaments-transit", "operating")],
    ),
    (
        "published",
        "hisenda",
        {
            "slug": "priorizacio-ajuts-emergencia-social",
            "name": "Priorització de sol·licituds d'ajuts d'emergència social",
            "description_short": "Ordena les sol·licituds d'ajut urgent perquè les més greus es revisin primer.",
            "status": "in_use",
            "begin_date": "2024-02",
            "publication_category": "high_risk_ai",
            "ai_act_class": "high_risk",
            "annex_iii_area": "5(a)",
            "trade_name": "SocialTriage 2.1",
            "senior_responsible_owner": "Direcció de Serveis Socials",
            "eu_database_url": "https://ai-act-database.europa.eu/deployer/bcn-0001",
            "personal_data": "identified",
            "decision_role": "informs_human",
            "model_type": "statistical",
            "goal_and_impact": "Escurça l'espera de les famílies en situació més greu.",
            "human_oversight": "Una treballadora social valora cada sol·licitud; la puntuació no denega res.",
            "data_description": "Dades de la sol·licitud i historial d'ajuts anteriors, pseudonimitzats.",
            "protected_attributes": ["age", "income"],
            "impact_assessments": [
                {
                    "kind": "FRIA",
                    "title": "Avaluació d'impacte en drets fonamentals 2024",
                    "summary": "Sense impacte desigual per sexe o origen; revisió semestral del biaix d'edat.",
                },
                {
                    "kind": "DPIA",
                    "title": "Avaluació d'impacte en protecció de dades",
                    "summary": "Minimització de dades i accés limitat a l'equip de serveis socials.",
                },
            ],
            "themes": ["social_security"],
            "principles": [2, 3, 4],
            "supplier": "SocialTriage SL",
        },
        [("renda-familiar", "training")],
    ),
    (
        "in_review",
        "medi-ambient",
        {
            "slug": "deteccio-abocaments-il-legals",
            "name": "Detecció d'abocaments il·legals amb imatges",
            "description_short": "Detecta residus abandonats a la via pública amb fotos dels vehicles de neteja.",
            "status": "in_development",
            "publication_category": "other",
            "ai_act_class": "minimal",
            "model_type": "machine_learning",
            "goal_and_impact": "Permet recollir abans els residus abandonats.",
            "human_oversight": "Un operari confirma cada avís abans d'enviar-hi un equip.",
            "data_description": "Imatges de carrer sense persones ni matrícules (es difuminen al vehicle).",
            "personal_data": "pseudonymised",
            "themes": ["nature_and_environment"],
            "principles": [2, 5],
        },
        [("residus-recollida-selectiva", "testing")],
    ),
    (
        "published",
        "salut",
        {
            "slug": "assistent-conversacional-cita-previa",
            "name": "Assistent conversacional de cita prèvia",
            "description_short": "Respon preguntes sobre tràmits i ajuda a demanar cita prèvia.",
            "status": "in_development",
            "publication_category": "other",
            "ai_act_class": "transparency_only",
            "model_type": "generative_ai",
            "decision_role": "no_individual_decisions",
            "goal_and_impact": "Atendre a qualsevol hora, en català, castellà i anglès, les persones que no troben "
            "el tràmit o el centre que els toca.",
            "human_oversight": "No decideix res: qui vol parlar amb una persona hi és derivat en qualsevol moment, "
            "i l'equip d'atenció ciutadana revisa cada setmana una mostra de converses.",
            "data_description": "Preguntes freqüents, fitxes de tràmits i el directori de centres d'atenció primària. "
            "Les converses no es guarden amb dades identificatives.",
            "themes": ["organisation_and_operations"],
            "principles": [1, 4],
        },
        [("centres-atencio-primaria", "operating")],
    ),
    (
        "draft",
        "participacio",
        {
            "slug": "classificacio-incidencies-iris",
            "name": "Classificació automàtica d'incidències IRIS",
            "description_short": "Proposa el servei responsable de cada incidència, queixa o suggeriment rebut.",
            "status": "in_development",
            "publication_category": "other",
            "ai_act_class": "minimal",
            "model_type": "machine_learning",
            "themes": ["organisation_and_operations"],
            "principles": [3, 4],
        },
        [("incidencies-iris", "training")],
    ),
    (
        "withdrawn",
        "urbanisme",
        {
            "slug": "deteccio-pisos-turistics-il-legals",
            "name": "Detecció d'habitatges d'ús turístic sense llicència",
            "description_short": "Creuava anuncis en línia amb el registre de llicències per prioritzar inspeccions.",
            "status": "retired",
            "begin_date": "2018-06",
            "end_date": "2023-12",
            "publication_category": "impactful",
            "ai_act_class": "not_ai",
            "model_type": "rules",
            "goal_and_impact": "Prioritzava les inspeccions d'habitatges turístics.",
            "human_oversight": "Els inspectors decidien cada expedient.",
            "data_description": "Anuncis públics i registre de llicències.",
            "themes": ["housing"],
            "principles": [3],
        },
        [("habitatges-us-turistic", "operating")],
    ),
]


def _step(session: Session, actor: Actor, slug: str, action: str, reason: str = "") -> None:
    service.transition(
        session=session,
        actor=actor,
        slug=slug,
        data=TransitionRequest(action=action, reason=reason),
        allow_self_publish=True,
    )


def seed(*, session: Session, reviewer: Actor = SYSTEM) -> None:
    """Adds the demo entries whose organisation exists and whose slug is free; links the datasets that exist."""
    for state, org, fields, links in ENTRIES:
        if session.scalar(select(func.count()).where(AlgorithmVersion.slug == fields["slug"])):
            continue
        if session.scalar(select(func.count()).where(Organization.name == org)) == 0:
            continue
        names = {name for name, _ in links}
        existing = set(session.scalars(select(Dataset.name).where(Dataset.name.in_(names), Dataset.state == "active")))
        datasets = [{"dataset": name, "role": role} for name, role in links if name in existing]
        data = AlgorithmCreate.model_validate({**BASE, **fields, "organization": org, "datasets": datasets})
        service.create(session=session, actor=reviewer, data=data)
        if state == "draft":
            continue
        _step(session, reviewer, data.slug or "", "submit")
        if state == "in_review":
            continue
        _step(session, reviewer, data.slug or "", "publish")
        if state == "withdrawn":
            _step(session, reviewer, data.slug or "", "withdraw", "Substituït per la consulta directa al registre.")
