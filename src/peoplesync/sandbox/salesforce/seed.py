"""Deterministic, realistic and messy seed data, written straight to storage for speed.

Names, companies and cities come from Faker pools drawn once; records combine them with a
seeded random generator, so a million contacts take seconds and the same seed gives the
same org. Messy on purpose: mixed-case emails, duplicate emails across leads and contacts,
converted leads, and missing optional fields. Emails are built from the names spelled in
ASCII (Božanić -> bozanic), because the org refuses other letters in an address with
INVALID_EMAIL_ADDRESS, as Salesforce does: seeded records must survive their next save.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from faker import Faker

from peoplesync.sandbox.salesforce.soql_compiler import storage_datetime
from peoplesync.sandbox.salesforce.storage import Storage

LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"]
SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other", None]
INDUSTRIES = ["Technology", "Finance", "Healthcare", "Retail", "Manufacturing", "Education", None]
STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Closed Won",
    "Closed Lost",
]
BATCH = 20_000
# Letters that do not decompose into an ASCII letter plus accents.
_SPELLED = str.maketrans(
    {"ß": "ss", "đ": "dj", "Đ": "Dj", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae"}
    | {"œ": "oe", "Œ": "Oe", "ı": "i", "þ": "th", "ð": "d"}
)
_WORD = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")


@dataclass
class SeedCounts:
    """How many records of each kind were written."""

    accounts: int = 0
    contacts: int = 0
    leads: int = 0
    opportunities: int = 0
    campaigns: int = 0


class _Pools:
    def __init__(self, seed: int) -> None:
        faker = Faker(["en_US", "en_GB", "de_DE", "fr_FR", "hr_HR"])
        faker.seed_instance(seed)
        self.first = [faker.first_name() for _ in range(400)]
        self.last = [faker.last_name() for _ in range(600)]
        self.companies = [faker.company() for _ in range(500)]
        self.cities = [(faker.city(), faker.current_country()) for _ in range(150)]
        self.titles = [faker.job() for _ in range(120)]
        self.domains = [faker.domain_name() for _ in range(300)]


def _address_part(name: str) -> str:
    """A name as it goes into an email address: ASCII letters and digits, inner hyphens kept."""
    plain = unicodedata.normalize("NFKD", name.translate(_SPELLED))
    return "".join(_WORD.findall("".join(c for c in plain if c.isascii())))


def _email(rng: random.Random, first: str, last: str, domain: str, index: int) -> str:
    parts = [p for p in (_address_part(first), _address_part(last)) if p]
    local = ".".join(parts or ["person"]).lower() + str(index)
    email = f"{local}@{domain}"
    roll = rng.random()
    if roll < 0.15:
        return email.upper() if roll < 0.03 else email.title()  # mixed case, as people type it
    return email


def seed_rows(
    storage: Storage,
    user_id: str,
    now: datetime,
    *,
    accounts: int,
    contacts: int,
    leads: int,
    seed: int,
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(sObject, rows) batches to insert, in dependency order."""
    rng = random.Random(seed)
    pools = _Pools(seed)
    ids = storage.ids

    def stamp() -> dict[str, Any]:
        moment = storage_datetime(
            now - timedelta(days=rng.randint(1, 700), seconds=rng.randint(0, 86_399))
        )
        return {
            "IsDeleted": 0,
            "CreatedDate": moment,
            "LastModifiedDate": moment,
            "SystemModstamp": moment,
            "CreatedById": user_id,
            "LastModifiedById": user_id,
        }

    account_ids: list[str] = []
    batch: list[dict[str, Any]] = []
    for i in range(accounts):
        city, country = rng.choice(pools.cities)
        domain = rng.choice(pools.domains)
        record_id = ids.next_id("001")
        account_ids.append(record_id)
        website = rng.choice([f"https://www.{domain}", f"http://{domain}/", domain.upper(), None])
        batch.append(
            {
                "Id": record_id,
                "Name": f"{rng.choice(pools.companies)} {i}",
                "Website": website,
                "Industry": rng.choice(INDUSTRIES),
                "NumberOfEmployees": rng.choice([None, rng.randint(1, 50_000)]),
                "AnnualRevenue": rng.choice([None, float(rng.randint(10, 10_000) * 1000)]),
                "BillingCity": city,
                "BillingCountry": country,
                "OwnerId": user_id,
                **stamp(),
            }
        )
        if len(batch) >= BATCH:
            yield "Account", batch
            batch = []
    if batch:
        yield "Account", batch
    contact_emails: list[str] = []
    batch = []
    for i in range(contacts):
        first, last = rng.choice(pools.first), rng.choice(pools.last)
        city, country = rng.choice(pools.cities)
        email = (
            _email(rng, first, last, rng.choice(pools.domains), i) if rng.random() > 0.05 else None
        )
        if email and rng.random() < 0.2:
            contact_emails.append(email)
        batch.append(
            {
                "Id": ids.next_id("003"),
                "FirstName": first if rng.random() > 0.05 else None,
                "LastName": last,
                "Name": f"{first} {last}",
                "Email": email,
                "Phone": f"+1 415 555 {rng.randint(0, 9999):04d}" if rng.random() > 0.4 else None,
                "MobilePhone": f"+44 7400 {rng.randint(0, 999_999):06d}"
                if rng.random() > 0.6
                else None,
                "Title": rng.choice(pools.titles) if rng.random() > 0.3 else None,
                "AccountId": rng.choice(account_ids)
                if account_ids and rng.random() > 0.1
                else None,
                "MailingCity": city,
                "MailingCountry": country,
                "LeadSource": rng.choice(SOURCES),
                "OwnerId": user_id,
                **stamp(),
            }
        )
        if len(batch) >= BATCH:
            yield "Contact", batch
            batch = []
    if batch:
        yield "Contact", batch
    batch = []
    for i in range(leads):
        first, last = rng.choice(pools.first), rng.choice(pools.last)
        city, country = rng.choice(pools.cities)
        roll = rng.random()
        lead_email: str | None
        if roll < 0.05 and contact_emails:
            lead_email = rng.choice(contact_emails).swapcase()  # same person, other case
        elif roll < 0.08:
            lead_email = None
        else:
            lead_email = _email(rng, first, last, rng.choice(pools.domains), 10_000_000 + i)
        row = {
            "Id": ids.next_id("00Q"),
            "FirstName": first,
            "LastName": last,
            "Name": f"{first} {last}",
            "Company": rng.choice(pools.companies),
            "Email": lead_email,
            "Title": rng.choice(pools.titles),
            "Phone": f"+1 212 555 {rng.randint(0, 9999):04d}" if rng.random() > 0.5 else None,
            "City": city,
            "Country": country,
            "LeadSource": rng.choice(SOURCES),
            "Status": rng.choice(LEAD_STATUSES),
            "Industry": rng.choice(INDUSTRIES),
            "IsConverted": 0,
            "IsUnreadByOwner": 0,
            "OwnerId": user_id,
            **stamp(),
        }
        batch.append(row)
        if len(batch) >= BATCH:
            yield "Lead", batch
            batch = []
    if batch:
        yield "Lead", batch
    yield from _opportunities_and_campaigns(rng, ids, account_ids, stamp, user_id, now)


def _opportunities_and_campaigns(
    rng: random.Random,
    ids: Any,
    account_ids: list[str],
    stamp: Callable[[], dict[str, Any]],
    user_id: str,
    now: datetime,
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An open or closed opportunity for every other account, and a handful of campaigns."""
    opportunities = []
    for index, account_id in enumerate(account_ids[::2]):
        close = (now + timedelta(days=rng.randint(-200, 200))).date().isoformat()
        stage = rng.choice(STAGES)
        opportunities.append(
            {
                "Id": ids.next_id("006"),
                "Name": f"Opportunity {index}",
                "AccountId": account_id,
                "StageName": stage,
                "CloseDate": close,
                "Amount": float(rng.randint(1, 500) * 1000),
                "Probability": 100.0
                if stage == "Closed Won"
                else 0.0
                if stage == "Closed Lost"
                else 50.0,
                "IsClosed": int(stage.startswith("Closed")),
                "IsWon": int(stage == "Closed Won"),
                "OwnerId": user_id,
                **stamp(),
            }
        )
        if len(opportunities) >= BATCH:
            yield "Opportunity", opportunities
            opportunities = []
    if opportunities:
        yield "Opportunity", opportunities
    campaigns = [
        {
            "Id": ids.next_id("701"),
            "Name": name,
            "Type": kind,
            "Status": status,
            "IsActive": int(status == "In Progress"),
            "NumberOfLeads": 0,
            "NumberOfContacts": 0,
            "OwnerId": user_id,
            **stamp(),
        }
        for name, kind, status in (
            ("Spring Webinar", "Webinar", "Completed"),
            ("Summer Trade Show", "Trade Show", "Completed"),
            ("Autumn Newsletter", "Email", "In Progress"),
            ("Partner Referrals", "Referral Program", "In Progress"),
            ("Winter Launch", "Advertisement", "Planned"),
        )
    ]
    yield "Campaign", campaigns


async def seed_org(
    storage: Storage,
    user_id: str,
    now: datetime,
    *,
    accounts: int,
    contacts: int,
    leads: int,
    seed: int,
    progress: Callable[[str, int], None] | None = None,
) -> SeedCounts:
    """Write seed data in large transactions; returns the counts."""
    counts = SeedCounts()
    conn = storage.conn
    for sobject, rows in seed_rows(
        storage, user_id, now, accounts=accounts, contacts=contacts, leads=leads, seed=seed
    ):
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        await conn.executemany(
            f'INSERT INTO "{sobject}" ({names}) VALUES ({marks})',
            [tuple(r.get(c) for c in columns) for r in rows],
        )
        field = {
            "Account": "accounts",
            "Contact": "contacts",
            "Lead": "leads",
            "Opportunity": "opportunities",
            "Campaign": "campaigns",
        }[sobject]
        setattr(counts, field, getattr(counts, field) + len(rows))
        if progress is not None:
            progress(sobject, len(rows))
    await _convert_some_leads(storage, user_id, now, seed)
    await storage.save_counter()
    await conn.commit()
    await conn.execute("ANALYZE")  # give the planner statistics for the seeded volume
    await conn.commit()
    return counts


async def _convert_some_leads(storage: Storage, user_id: str, now: datetime, seed: int) -> None:
    """Mark about 3% of leads as converted, pointing at existing contacts and accounts."""
    rng = random.Random(seed + 1)
    conn = storage.conn
    async with conn.execute(
        'SELECT "Id", "AccountId" FROM "Contact" WHERE "AccountId" IS NOT NULL LIMIT 2000'
    ) as cursor:
        targets = [tuple(row) async for row in cursor]
    if not targets:
        return
    async with conn.execute('SELECT "Id" FROM "Lead" WHERE "IsConverted" = 0') as cursor:
        leads = [row[0] async for row in cursor]
    chosen = [lead for lead in leads if rng.random() < 0.03]
    stamp = storage_datetime(now)
    await conn.executemany(
        'UPDATE "Lead" SET "IsConverted" = 1, "Status" = \'Closed - Converted\', "ConvertedDate" = ?, '
        '"ConvertedContactId" = ?, "ConvertedAccountId" = ? WHERE "Id" = ?',
        [(stamp[:10], *rng.choice(targets), lead) for lead in chosen],
    )
