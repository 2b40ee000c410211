"""Member companies: the association's member list, fuzzy matching, and member profiles.

* The member list is a CSV file (``ipdesk members import FILE.csv``; columns ``name``,
  ``member_no``, optional ``credit_code``; UTF-8 with or without BOM, or GB18030 as Excel
  saves it). :func:`parse_member_csv` validates it and reports bad rows by line number;
  :meth:`CompanyService.import_members` upserts by ``member_no``, else by the normalised
  name key, so the list can be imported again after every update.
* :func:`company_key` is the normalised form used for matching and for the unique
  ``companies.name_key`` column: full-width → half-width, Traditional → Simplified, lower case,
  the city prefix (宁波/宁波市/Ningbo) and legal suffixes (有限公司, Co., Ltd. …) removed.
* A member's profile is their company link plus contact name and optional phone; a company
  typed by a member that matches nothing is created with ``is_member=False`` (served, and
  flagged to staff). Several employees may link to one company and share its case history.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.attributes import ALIASES, CITY_MAX, INDUSTRY_MAX, canonical
from bot.services.audience import key_of, markets_field
from bot.services.errors import DomainError, NotFound
from db.models import Company, Ticket, User
from db.session import SessionFactory
from faq.normalize import fold

MATCH_CUTOFF = 70.0
"""Scores below this are not offered to the member at all."""
MATCH_CONFIDENT = 90.0
"""At or above this the handler may offer the match as the likely answer."""

_CITY_PREFIXES = ("宁波市", "宁波", "ningbo city", "ningbo")
# Longest first: removing 有限公司 before 股份有限公司 would leave 股份.
_SUFFIXES_ZH = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "公司",
)
_SUFFIX_EN = re.compile(
    r"(?<![a-z0-9])(?:"
    r"co\s*\.?\s*,?\s*ltd|company\s+limited|corporation|limited|ltd|inc|incorporated|"
    r"corp|llc|co"
    r")\s*\.?\s*$"
)
_PAREN_CITY = re.compile(r"\((?:宁波|宁波市|ningbo)\)")
_NOT_WORD = re.compile(r"[^\w]+")
_SPACES = re.compile(r"\s+")


def company_key(name: str) -> str:
    """Normalised matching key of a company name (also stored in ``companies.name_key``).

    >>> company_key("宁波市甬兴电器有限公司") == company_key("宁波甬兴电器") == "甬兴电器"
    True
    """
    text = fold(name)  # NFKC (full-width), Traditional → Simplified, lower case
    text = _PAREN_CITY.sub("", text).strip()
    for _ in range(3):  # "xx 股份有限公司 (宁波)" style stacks: strip until stable
        before = text
        text = _SUFFIX_EN.sub("", text).strip(" ,.")
        for suffix in _SUFFIXES_ZH:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].strip()
                break
        if text == before:
            break
    for prefix in _CITY_PREFIXES:
        if text.startswith(prefix):
            if len(text) > len(prefix):
                text = text[len(prefix) :].strip()
            break
    text = _NOT_WORD.sub(" ", text).replace("_", " ")
    text = _SPACES.sub(" ", text).strip()
    # Chinese names carry no meaningful spaces; Latin ones keep single spaces between words.
    if not re.search(r"[a-z0-9]\s+[a-z0-9]", text):
        text = text.replace(" ", "")
    return text


def clean_display_name(name: str) -> str:
    """What we store as the company's name: full-width folded, spaces collapsed, trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip()


# --- unified social credit code (统一社会信用代码, GB 32100-2015) ---------------------------

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def valid_credit_code(code: str) -> bool:
    """18 characters with the check character of GB 32100-2015."""
    if not _CREDIT_SHAPE.match(code):
        return False
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(code, _CREDIT_WEIGHTS, strict=False))
    return _CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


# --- phone numbers ---------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes: 010, 02X, or 0 + three digits (0574 Ningbo); local numbers of 7 or 8 digits.
_LANDLINE = re.compile(r"^(0(?:10|2\d|[3-9]\d{2}))(\d{7,8})$")
_INTERNATIONAL = re.compile(r"^\+[1-9]\d{6,14}$")
_PHONE_JUNK = re.compile(r"[\s\-–—()（）.]")


ATTRIBUTES = ("industry", "export_markets", "city")
"""A company's optional audience attributes (columns of ``companies``), in asking order."""
ATTRIBUTE_MAX = {"industry": INDUSTRY_MAX, "city": CITY_MAX}
MARKETS_MAX = 200  # companies.export_markets
_ATTRIBUTE_FIELD = {"industry": "industry", "export_markets": "markets", "city": "city"}


class ProfileError(DomainError):
    """Bad profile input; ``field`` and ``reason`` are stable codes for the catalog.

    Reasons: phone — ``bad_characters``, ``bad_format``; contact_name — ``empty``,
    ``too_long``; company, industry, city, markets — ``empty``, ``too_long``; industry,
    city, markets — ``listed`` (the member list set it: the member cannot change it).
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def normalise_phone(raw: str) -> str:
    """Validate and normalise a phone number, or raise ProfileError("phone", reason).

    Accepted, after removing spaces, dashes, dots and brackets (full-width too):
    a Chinese mobile ``1[3-9]`` + 9 digits (``+86``/``0086`` prefix dropped) → ``13812345678``;
    a landline with area code → ``0574-87654321``; an international number in ``+`` format
    (7–15 digits) → ``+4420…``.
    """
    text = _PHONE_JUNK.sub("", unicodedata.normalize("NFKC", raw))
    if text.startswith("00"):
        text = "+" + text[2:]
    if not re.fullmatch(r"\+?\d+", text):
        raise ProfileError("phone", "bad_characters")
    if text.startswith("+86"):
        national = text[3:]
        if _MOBILE.match(national):
            return national
        if national and not national.startswith("0") and _LANDLINE.match("0" + national):
            text = "0" + national
        else:
            raise ProfileError("phone", "bad_format")
    if _MOBILE.match(text):
        return text
    landline = _LANDLINE.match(text)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    if _INTERNATIONAL.match(text):
        return text
    raise ProfileError("phone", "bad_format")


# --- member list CSV (pure) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberRow:
    line: int
    name: str
    member_no: str | None
    credit_code: str | None
    # Optional attributes for announcement audiences (empty: leave what is stored).
    industry: str | None = None
    export_markets: str | None = None  # stored form ";us;eu;"
    city: str | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class MemberListError(DomainError):
    """The member list cannot be read at all (encoding, missing columns)."""


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise MemberListError("the file is neither UTF-8 nor GB18030 text")


def parse_member_csv(data: bytes | str) -> tuple[list[MemberRow], list[RowProblem]]:
    """Read the member list; return the good rows and the bad ones by line number.

    The header (line 1) must name ``name`` and ``member_no`` (``credit_code`` optional; other
    columns are ignored; Chinese headers 企业名称/会员编号/统一社会信用代码 are accepted).
    Optional audience attributes: ``industry`` (行业), ``export_markets`` (出口市场; several
    separated by commas, e.g. "US, EU") and ``city`` (城市).
    A row is bad when the name is empty, too long or normalises to nothing; when the credit
    code is malformed; or when its member number or name repeats an earlier row.
    Raises MemberListError when the header is unusable.
    """
    text = _decode(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # Excel writes ";" in some locales
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    aliases = {
        "name": "name",
        "company": "name",
        "企业名称": "name",
        "公司名称": "name",
        "名称": "name",
        "member_no": "member_no",
        "会员编号": "member_no",
        "credit_code": "credit_code",
        "统一社会信用代码": "credit_code",
        "industry": "industry",
        "行业": "industry",
        "export_markets": "export_markets",
        "markets": "export_markets",
        "出口市场": "export_markets",
        "city": "city",
        "城市": "city",
    }
    try:
        header = next(reader)
    except StopIteration:
        raise MemberListError("the file is empty") from None
    except csv.Error as exc:
        raise MemberListError(f"line 1: {exc}") from None
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        column = aliases.get(title.strip().lower())
        if column is not None and column not in columns:
            columns[column] = index
    missing = [c for c in ("name", "member_no") if c not in columns]
    if missing:
        raise MemberListError(
            f"line 1: the header must name the columns name, member_no (missing: "
            f"{', '.join(missing)}; credit_code is optional)"
        )

    rows: list[MemberRow] = []
    problems: list[RowProblem] = []
    seen_no: dict[str, int] = {}
    seen_key: dict[str, int] = {}

    def cell(values: Sequence[str], column: str) -> str:
        index = columns.get(column)
        if index is None or index >= len(values):
            return ""
        return clean_display_name(values[index])

    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(RowProblem(reader.line_num, f"unreadable row ({exc})"))
            continue
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue  # blank lines are harmless
        name = cell(values, "name")
        member_no = cell(values, "member_no") or None
        credit = cell(values, "credit_code").upper() or None
        if not name:
            problems.append(RowProblem(line, "the company name is empty"))
            continue
        if len(name) > 200:
            problems.append(RowProblem(line, "the company name is longer than 200 characters"))
            continue
        key = company_key(name)
        if not key:
            problems.append(RowProblem(line, f"the name {name!r} has no distinctive part"))
            continue
        if member_no is not None and len(member_no) > 50:
            problems.append(RowProblem(line, "the member number is longer than 50 characters"))
            continue
        if credit is not None and not valid_credit_code(credit):
            problems.append(
                RowProblem(line, f"the credit code {credit!r} is not a valid 18-character code")
            )
            continue
        if member_no is not None and member_no in seen_no:
            problems.append(
                RowProblem(line, f"member number {member_no} repeats line {seen_no[member_no]}")
            )
            continue
        if key in seen_key:
            problems.append(RowProblem(line, f"the company {name!r} repeats line {seen_key[key]}"))
            continue
        if member_no is not None:
            seen_no[member_no] = line
        seen_key[key] = line
        industry = cell(values, "industry")[:100] or None
        city = cell(values, "city")[:50] or None
        markets = markets_field(cell(values, "export_markets"))
        if markets is not None and len(markets) > 200:
            problems.append(RowProblem(line, "the export markets are longer than 200 characters"))
            continue
        rows.append(MemberRow(line, name, member_no, credit, industry, markets, city))
    return rows, problems


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    id: int
    name: str
    member_no: str | None
    is_member: bool
    credit_code: str | None


@dataclass(frozen=True, slots=True)
class CompanyMatch:
    """One candidate for a typed company name; ``score`` 0–100 (rapidfuzz WRatio on keys)."""

    company: CompanyInfo
    score: float

    @property
    def confident(self) -> bool:
        return self.score >= MATCH_CONFIDENT


@dataclass(frozen=True, slots=True)
class MemberImport:
    created: int
    updated: int
    unchanged: int
    problems: tuple[RowProblem, ...]
    members_not_in_file: int  # still flagged members; a re-import never demotes anybody

    def summary(self) -> str:
        text = (
            f"companies: {self.created} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.problems)} bad row(s)"
        )
        if self.members_not_in_file:
            text += f"; {self.members_not_in_file} member(s) in the database are not in the file"
        lines = [text, *(str(p) for p in self.problems)]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class LinkResult:
    company: CompanyInfo
    created: bool  # a new non-member company was created from the typed name


@dataclass(frozen=True, slots=True)
class MemberProfile:
    user_id: int
    company: CompanyInfo | None
    contact_name: str | None
    phone: str | None
    # The company's audience attributes (stored forms) and which of them the member list set.
    industry: str | None = None
    export_markets: str | None = None  # ";us;eu;"
    city: str | None = None
    listed: frozenset[str] = frozenset()

    @property
    def complete(self) -> bool:
        """What the escalation dialogue needs before assignment: company and contact."""
        return self.company is not None and bool(self.contact_name)


def listed_attributes(value: str | None) -> frozenset[str]:
    """The attributes a ``companies.listed`` value names (";industry;city;")."""
    return frozenset(a for a in (value or "").split(";") if a in ATTRIBUTES)


def listed_field(attributes: Iterable[str]) -> str | None:
    """The ``companies.listed`` form of a set of attributes, in :data:`ATTRIBUTES` order."""
    names = [a for a in ATTRIBUTES if a in set(attributes)]
    return f";{';'.join(names)};" if names else None


def _row_listed(row: MemberRow) -> set[str]:
    return {a for a in ATTRIBUTES if getattr(row, a)}


def company_info(row: Company) -> CompanyInfo:
    return CompanyInfo(row.id, row.name, row.member_no, row.is_member, row.credit_code)


def rank_companies(
    name: str, companies: Iterable[CompanyInfo], *, limit: int = 5, cutoff: float = MATCH_CUTOFF
) -> list[CompanyMatch]:
    """Pure fuzzy ranking of ``companies`` against a typed ``name``, best first.

    Both sides go through :func:`company_key` (the explicit rapidfuzz processor); scorer
    WRatio; nothing under ``cutoff``. An exact key match scores 100. Members win ties.
    """
    pool = list(companies)
    query = company_key(name)
    if not query or not pool:
        return []
    keys = [company_key(c.name) for c in pool]
    found = process.extract(
        query, keys, scorer=fuzz.WRatio, processor=None, limit=None, score_cutoff=cutoff
    )
    matches = [CompanyMatch(pool[index], round(float(score), 1)) for _, score, index in found]
    matches.sort(key=lambda m: (-m.score, not m.company.is_member, m.company.name))
    return matches[:limit]


async def _user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"unknown user {user_id}")
    return user


class CompanyService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def import_members(
        self, rows: Sequence[MemberRow], problems: Sequence[RowProblem] = ()
    ) -> MemberImport:
        """Upsert parsed rows (by member_no, else by name key) in one transaction.

        A company that members created themselves (``is_member=False``) becomes a member when
        the list names it. A row whose member number points to one company but whose name
        matches another is reported as a problem and skipped.
        """
        created = updated = unchanged = 0
        bad = list(problems)
        async with self._sessions() as s, s.begin():
            companies = list((await s.scalars(select(Company))).all())
            by_no = {c.member_no: c for c in companies if c.member_no is not None}
            by_key = {c.name_key: c for c in companies}
            touched: set[int] = set()
            for row in rows:
                key = company_key(row.name)
                target = by_no.get(row.member_no) if row.member_no else None
                same_name = by_key.get(key)
                if target is None:
                    target = same_name
                    if (
                        target is not None
                        and target.member_no is not None
                        and row.member_no is not None
                        and target.member_no != row.member_no
                    ):
                        bad.append(
                            RowProblem(
                                row.line,
                                f"{row.name!r} is already member {target.member_no}; "
                                f"the file says {row.member_no}",
                            )
                        )
                        continue
                elif same_name is not None and same_name.id != target.id:
                    bad.append(
                        RowProblem(
                            row.line,
                            f"member number {row.member_no} belongs to {target.name!r} but "
                            f"{row.name!r} is another company in the database",
                        )
                    )
                    continue
                if target is None:
                    company = Company(
                        name=row.name,
                        name_key=key,
                        member_no=row.member_no,
                        is_member=True,
                        credit_code=row.credit_code,
                        industry=row.industry,
                        export_markets=row.export_markets,
                        city=row.city,
                        listed=listed_field(_row_listed(row)),
                    )
                    s.add(company)
                    await s.flush()
                    by_key[key] = company
                    if row.member_no:
                        by_no[row.member_no] = company
                    touched.add(company.id)
                    created += 1
                    continue
                values = {
                    "name": row.name,
                    "name_key": key,
                    "member_no": row.member_no or target.member_no,
                    "is_member": True,
                    "credit_code": row.credit_code or target.credit_code,
                    "industry": row.industry or target.industry,
                    "export_markets": row.export_markets or target.export_markets,
                    "city": row.city or target.city,
                    "listed": listed_field(listed_attributes(target.listed) | _row_listed(row)),
                }
                changed = [k for k, v in values.items() if getattr(target, k) != v]
                if target.name_key != key:
                    by_key.pop(target.name_key, None)
                    by_key[key] = target
                for k in changed:
                    setattr(target, k, values[k])
                if target.member_no:
                    by_no[target.member_no] = target
                touched.add(target.id)
                if changed:
                    updated += 1
                else:
                    unchanged += 1
                await s.flush()
            absent = sum(1 for c in by_key.values() if c.is_member and c.id not in touched)
        bad.sort(key=lambda p: p.line)
        return MemberImport(created, updated, unchanged, tuple(bad), absent)

    async def import_members_csv(self, path: Path) -> MemberImport:
        """Parse and import a member list file; MemberListError if it cannot be read."""
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise MemberListError(f"cannot read {path.name} ({exc})") from None
        rows, problems = parse_member_csv(data)
        return await self.import_members(rows, problems)

    async def match_company(self, name: str, limit: int = 5) -> list[CompanyMatch]:
        """Companies (members and non-members) whose name resembles ``name``, best first.

        The handler shows these to the member for confirmation; an empty list (or a refusal)
        means :meth:`link_user` with the typed name.
        """
        async with self._sessions() as s:
            rows = (await s.scalars(select(Company))).all()
        return rank_companies(name, (company_info(r) for r in rows), limit=limit)

    async def get(self, company_id: int) -> CompanyInfo:
        async with self._sessions() as s:
            row = await s.get(Company, company_id)
            if row is None:
                raise NotFound(f"no company {company_id}")
            return company_info(row)

    async def link_user(self, user_id: int, company: int | str) -> LinkResult:
        """Link a member to a company: an id the member confirmed, or the name they typed.

        A typed name whose key equals an existing company links to that company; otherwise a
        company flagged ``is_member=False`` is created. The member's tickets that have no
        company yet are attached to it, so the company's history is complete.
        Raises NotFound (unknown user or company id) or ProfileError("company", reason).
        """
        async with self._sessions() as s, s.begin():
            user = await _user(s, user_id)
            created = False
            if isinstance(company, int):
                row = await s.get(Company, company)
                if row is None:
                    raise NotFound(f"no company {company}")
            else:
                name = clean_display_name(company)
                if not name:
                    raise ProfileError("company", "empty")
                if len(name) > 200:
                    raise ProfileError("company", "too_long")
                key = company_key(name) or name.lower()
                row = await s.scalar(select(Company).where(Company.name_key == key))
                if row is None:
                    row = Company(name=name, name_key=key, is_member=False)
                    s.add(row)
                    await s.flush()
                    created = True
            user.company_id = row.id
            await s.execute(
                update(Ticket)
                .where(Ticket.user_id == user_id, Ticket.company_id.is_(None))
                .values(company_id=row.id)
                .execution_options(synchronize_session=False)
            )
            return LinkResult(company_info(row), created)

    async def save_profile(
        self, user_id: int, contact_name: str, phone: str | None = None
    ) -> MemberProfile:
        """Store the contact person and (optional, validated) phone of a member.

        ``phone`` None or blank clears it. Raises ProfileError (see its reasons) and changes
        nothing on bad input; NotFound for an unknown user.
        """
        name = clean_display_name(contact_name)
        if not name:
            raise ProfileError("contact_name", "empty")
        if len(name) > 100:
            raise ProfileError("contact_name", "too_long")
        normalised = normalise_phone(phone) if phone is not None and phone.strip() else None
        async with self._sessions() as s, s.begin():
            user = await _user(s, user_id)
            user.contact_name = name
            user.phone = normalised
            return await self._profile(s, user)

    async def profile(self, user_id: int) -> MemberProfile:
        """The member's profile (company, contact, phone); empty for an unknown user."""
        async with self._sessions() as s:
            user = await s.get(User, user_id)
            if user is None:
                return MemberProfile(user_id, None, None, None)
            return await self._profile(s, user)

    async def missing_attributes(self, user_id: int) -> tuple[str, ...]:
        """The audience attributes (``industry``, ``export_markets``, ``city``, in the
        dialogue's order) the member's company has no value for; () without a company."""
        async with self._sessions() as s:
            user = await s.get(User, user_id)
            company = await s.get(Company, user.company_id) if user and user.company_id else None
            if company is None:
                return ()
            return tuple(a for a in ATTRIBUTES if not getattr(company, a))

    async def set_attribute(self, user_id: int, attribute: str, value: str) -> str:
        """Store one audience attribute on the member's company, where the member list
        import keeps it; returns the stored value. ``export_markets``: several, separated by
        commas (stored ';us;eu;'). Raises ProfileError (``empty``, ``too_long``) and
        changes nothing on bad input; NotFound without a user or company."""
        if attribute == "export_markets":
            stored = markets_field(value)
            if stored is not None and len(stored) > MARKETS_MAX:
                raise ProfileError("markets", "too_long")
        elif attribute in ATTRIBUTE_MAX:
            typed = clean_display_name(value)
            field = "industries" if attribute == "industry" else "cities"
            stored = canonical(field, key_of(typed)) if key_of(typed) in ALIASES[field] else typed
            stored = stored or None
            if stored is not None and len(stored) > ATTRIBUTE_MAX[attribute]:
                raise ProfileError(_ATTRIBUTE_FIELD[attribute], "too_long")
        else:
            raise ValueError(f"not an audience attribute: {attribute}")
        if stored is None:
            raise ProfileError(_ATTRIBUTE_FIELD[attribute], "empty")
        async with self._sessions() as s, s.begin():
            company = await self._own_company(s, user_id, attribute)
            setattr(company, attribute, stored)
        return stored

    async def clear_attribute(self, user_id: int, attribute: str) -> None:
        """Delete one audience attribute of the member's company (/profile). Raises
        ProfileError(field, "listed") when the member list set it, NotFound without a
        company."""
        if attribute not in ATTRIBUTES:
            raise ValueError(f"not an audience attribute: {attribute}")
        async with self._sessions() as s, s.begin():
            company = await self._own_company(s, user_id, attribute)
            setattr(company, attribute, None)

    async def clear_phone(self, user_id: int) -> None:
        """Delete the member's phone number (optional; /profile)."""
        async with self._sessions() as s, s.begin():
            user = await _user(s, user_id)
            user.phone = None

    @staticmethod
    async def _own_company(session: AsyncSession, user_id: int, attribute: str) -> Company:
        """The member's company, for changing ``attribute``: the member list wins where it has
        a value, so an attribute it set is refused (ProfileError ``listed``)."""
        user = await _user(session, user_id)
        company = await session.get(Company, user.company_id) if user.company_id else None
        if company is None:
            raise NotFound(f"user {user_id} has no company")
        if attribute in listed_attributes(company.listed):
            raise ProfileError(_ATTRIBUTE_FIELD[attribute], "listed")
        return company

    @staticmethod
    async def _profile(session: AsyncSession, user: User) -> MemberProfile:
        company = await session.get(Company, user.company_id) if user.company_id else None
        if company is None:
            return MemberProfile(user.id, None, user.contact_name, user.phone)
        return MemberProfile(
            user.id,
            company_info(company),
            user.contact_name,
            user.phone,
            company.industry,
            company.export_markets,
            company.city,
            listed_attributes(company.listed),
        )
