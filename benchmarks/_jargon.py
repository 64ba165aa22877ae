"""The jargon development set of benchmarks/vocabulary.py: names, product names, medical and
legal terms, written for it (no Candor setting was tuned on other text).

For each domain: TERMS, CORRECTED passages (transcribed, then corrected to the text: what the
user teaches) and UNSEEN passages (other sentences with the same terms, only transcribed: what
the learning is measured on). Every term occurs in at least one passage of each kind.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    name: str
    terms: tuple[str, ...]
    corrected: tuple[str, ...]
    unseen: tuple[str, ...]
    # Other sentences with the same terms, for choosing settings (benchmarks/vocabulary.py
    # --split dev): the unseen passages are only ever measured, never tuned on.
    dev: tuple[str, ...] = ()


NAMES = Domain(
    "names",
    ("Kowalczyk", "Okonkwo", "Thibodeaux", "Przybylski", "Adebayo", "Szymanski", "Nakagawa",
     "Oluwaseun"),
    (
        "Thanks everyone. Anna Kowalczyk will present the roadmap, then Chidi Okonkwo takes "
        "questions.",
        "I spoke with Marc Thibodeaux yesterday and he agrees with Tomasz Przybylski on the "
        "schedule.",
        "Please copy Funmi Adebayo and Ewa Szymanski on the invitation for Friday.",
        "Kenji Nakagawa and Oluwaseun will review the contract before it goes out.",
    ),
    (
        "Can Okonkwo and Kowalczyk share the slides after lunch?",
        "Przybylski said the numbers look fine, but Thibodeaux wants another week.",
        "Szymanski is on holiday, so Adebayo will chair the call.",
        "Oluwaseun asked whether Nakagawa had signed off on the budget.",
        "Let me hand over to Kowalczyk, and Thibodeaux can follow with the risks.",
        "Adebayo and Przybylski disagree about the hiring plan.",
        "Nakagawa will meet Szymanski in Warsaw next month.",
        "I sent the draft to Okonkwo and to Oluwaseun this morning.",
    ),
    (
        "Kowalczyk and Szymanski will join us after the break.",
        "Thibodeaux sent the minutes to Adebayo on Monday.",
        "Ask Nakagawa whether Okonkwo has the latest figures.",
        "Oluwaseun and Przybylski are presenting the results.",
        "We owe Szymanski an answer, and Okonkwo is waiting too.",
        "Przybylski booked the room, and Nakagawa will bring the laptop.",
    ),
)

PRODUCTS = Domain(
    "products",
    ("Veltrix", "Orbisync", "Quorix", "Lumenade", "Zephyra", "Nexavault", "Kubernetes",
     "Grafana"),
    (
        "The Veltrix dashboard now imports data from Orbisync every hour.",
        "We are moving the Quorix backend to Kubernetes before the summer.",
        "Lumenade had a bad quarter, but Zephyra sales doubled.",
        "Nexavault stores the backups, and Grafana shows the alerts.",
    ),
    (
        "Did anyone test Orbisync with the new Veltrix release?",
        "The Grafana panel shows that Quorix is slower since Tuesday.",
        "Zephyra customers want the same export that Lumenade has.",
        "Nexavault runs on Kubernetes in both data centres now.",
        "If Veltrix goes down, Zephyra stops too.",
        "We could replace Lumenade with Orbisync next year.",
        "Quorix sends its logs to Nexavault every night.",
        "Kubernetes and Grafana are both managed by the platform team.",
    ),
    (
        "Orbisync and Nexavault were both down this morning.",
        "The Lumenade team wants to try Kubernetes as well.",
        "Quorix and Zephyra share one login page.",
        "Grafana shows the Veltrix traffic on a single chart.",
        "Nexavault keeps the Quorix archives for a year.",
        "Zephyra will use Grafana for its alerts next quarter.",
    ),
)

MEDICAL = Domain(
    "medical",
    ("metformin", "lisinopril", "atorvastatin", "amoxicillin", "levothyroxine", "tachycardia",
     "clopidogrel", "esomeprazole"),
    (
        "The patient takes metformin in the morning and lisinopril at night.",
        "We started atorvastatin last month and stopped the amoxicillin.",
        "Her levothyroxine dose was raised after the episode of tachycardia.",
        "He should keep taking clopidogrel, and esomeprazole protects the stomach.",
    ),
    (
        "Is lisinopril safe to combine with metformin?",
        "The amoxicillin course ends on Monday, then we review the atorvastatin.",
        "Tachycardia can be a side effect of too much levothyroxine.",
        "Esomeprazole is often given together with clopidogrel.",
        "Remind her to take the metformin with food.",
        "We switched from atorvastatin to a lower dose because of muscle pain.",
        "The rash appeared two days after the first amoxicillin tablet.",
        "His tachycardia settled once the lisinopril was reduced.",
    ),
    (
        "Check her kidneys before you increase the metformin.",
        "The amoxicillin made him sick, so we stopped it.",
        "Lisinopril and atorvastatin are taken once a day.",
        "Clopidogrel thins the blood, so watch for bruising.",
        "She has tachycardia at night and takes esomeprazole for reflux.",
        "Levothyroxine should be taken before breakfast.",
    ),
)

LEGAL = Domain(
    "legal",
    ("estoppel", "subpoena", "habeas corpus", "certiorari", "indemnification", "tortfeasor",
     "amicus curiae", "voir dire"),
    (
        "Their lawyer argued estoppel, and we answered the subpoena on time.",
        "The petition for habeas corpus was denied, so they will seek certiorari.",
        "The indemnification clause does not cover a third tortfeasor.",
        "An amicus curiae brief was filed before voir dire began.",
    ),
    (
        "Does the subpoena cover the emails from last year?",
        "The court granted certiorari after the habeas corpus ruling.",
        "Each tortfeasor may claim indemnification from the others.",
        "Voir dire took two days because of the amicus curiae coverage.",
        "Estoppel prevents them from changing their position now.",
        "We will ask for indemnification in the settlement.",
        "The judge quashed the subpoena on Thursday.",
        "She wrote an amicus curiae brief about habeas corpus.",
    ),
    (
        "The witness ignored the subpoena twice.",
        "Estoppel was the strongest part of their defence.",
        "A habeas corpus petition must name the custodian.",
        "The tortfeasor agreed to pay for the repairs.",
        "Voir dire starts on Monday, and certiorari is still pending.",
        "The indemnification clause was drafted by an amicus curiae.",
    ),
)

DOMAINS: tuple[Domain, ...] = (NAMES, PRODUCTS, MEDICAL, LEGAL)

# Added to the learned terms to make the 50-term vocabulary loaded for the general-speech check
# (issue 12 §4): plausible glossary entries of the same kinds, none of them spoken anywhere.
EXTRA_GLOSSARY: tuple[str, ...] = (
    "Rasmussen", "Oyelaran", "Castellanos", "Bartholomew", "Fitzgerald", "Ingrid", "Wojcik",
    "Tanaka", "Moreau", "Achterberg", "Plexora", "Stratamind", "Cobaltix", "Datadog",
    "Terraform", "Snowflake", "ibuprofen", "omeprazole",
)
