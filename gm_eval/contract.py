"""The data contract: table names, columns, kinds and vocabularies.

This module is the one place where input column names and their allowed
values are written. Readers, the mapping file, validation, synthetic data,
scoring and the documentation all read these declarations.

Column kinds
------------
``id``      identifier text; ``pattern`` restricts it when it may end up in a file name
``str``     short text (display names, site codes)
``int``     whole number (``min``/``max`` bound it)
``bool``    ``true/false``, ``yes/no``, ``1/0`` in any case
``date``    ISO ``YYYY-MM-DD``; Excel date cells and serial numbers are accepted
``enum``    one value of ``values`` (case-insensitive on input, stored lower case)
``likert``  whole number 1-5
``multi``   ``;``-separated list of lower-case codes
``text``    free text: read only to derive a flag, never kept as text
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ID_PATTERN",
    "CRITERIA",
    "Column",
    "Table",
    "TABLES",
    "TABLE_ORDER",
    "table",
    "DEFAULT_TARGET_ACK_DAYS",
    "DEFAULT_TARGET_CLOSE_DAYS",
]

#: Identifiers that may be used in file names (mechanisms, companies, sectors): the
#: contract's ``[A-Za-z0-9_.-]{1,64}``, and never starting with a dot (no ``..``, no hidden files).
ID_PATTERN = r"^(?!\.)[A-Za-z0-9_.-]{1,64}$"

#: The eight UNGP Principle 31 effectiveness criteria, in their canonical order.
CRITERIA: tuple[str, ...] = (
    "legitimate",
    "accessible",
    "predictable",
    "equitable",
    "transparent",
    "rights_compatible",
    "continuous_learning",
    "engagement_dialogue",
)

DEFAULT_TARGET_ACK_DAYS = 7
DEFAULT_TARGET_CLOSE_DAYS = 30

MECHANISM_TYPES = ("ogm", "supply_chain", "multi_stakeholder", "clms", "hotline")
CASE_STATUS = ("open", "closed", "withdrawn", "ineligible")
CHANNELS = (
    "hotline",
    "sms_chat",
    "app_web",
    "suggestion_box",
    "in_person",
    "worker_representative",
    "ngo_referral",
    "community_monitor",
    "other",
)
COMPLAINANT_TYPES = ("worker", "child", "community_member", "representative", "other", "unknown")
GENDERS = ("female", "male", "other", "unknown")
CATEGORIES = (
    "child_labour",
    "sexual_exploitation_abuse",
    "sexual_harassment",
    "forced_labour",
    "wages_benefits",
    "working_hours",
    "health_safety",
    "discrimination",
    "retaliation",
    "other",
)
SEVERITIES = ("low", "medium", "high", "critical")
OUTCOMES = ("remedied", "partially_remedied", "not_substantiated", "no_remedy", "referred", "unknown")
REFERRAL_TARGETS = (
    "none",
    "child_protection",
    "law_enforcement",
    "social_services",
    "health",
    "education",
    "other",
)
YES_NO_NOT_SURE = ("yes", "no", "not_sure")
SELF_ASSESSMENT_ANSWERS = ("yes", "partly", "no", "not_applicable")


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    Parameters
    ----------
    name : str
        Canonical column name.
    kind : str
        One of the kinds listed in the module docstring.
    required : bool
        The column must be present in the file (after mapping).
    nullable : bool
        Blank values are allowed.
    values : tuple of str
        Allowed values for ``enum`` columns.
    min, max : float, optional
        Inclusive bounds for ``int`` and ``likert`` columns.
    pattern : str, optional
        Regular expression an ``id`` must match.
    description : str
        One line for the data-format documentation.
    """

    name: str
    kind: str
    required: bool = False
    nullable: bool = True
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One input table of the data contract.

    Parameters
    ----------
    name : str
        Table name, also the file stem in a data directory.
    columns : tuple of Column
        Declared columns, in documentation order.
    key : tuple of str
        Columns whose combination must be unique.
    required : bool
        Whether a data directory must contain this table.
    description : str
        What one row is.
    date_order : tuple of (str, str)
        Pairs ``(earlier, later)``: when both are set, ``later`` must not precede ``earlier``.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = False
    description: str = ""
    date_order: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Canonical column names in declaration order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """Return the declaration of column ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    def columns_of_kind(self, *kinds: str) -> tuple[str, ...]:
        """Names of the columns whose kind is one of ``kinds``."""
        return tuple(c.name for c in self.columns if c.kind in kinds)


def _mech_id(required: bool = True) -> Column:
    return Column(
        "mechanism_id",
        "id",
        required=required,
        nullable=False,
        pattern=ID_PATTERN,
        description="grievance mechanism; must exist in mechanisms",
    )


def _age(lo: int, hi: int, required: bool = False, what: str = "age in years") -> Column:
    return Column("age", "int", required=required, min=lo, max=hi, description=what)


def _gender(required: bool = False) -> Column:
    return Column("gender", "enum", required=required, values=GENDERS)


def _likert(name: str, description: str) -> Column:
    return Column(name, "likert", min=1, max=5, description=description)


def _ynns(name: str, description: str) -> Column:
    return Column(name, "enum", values=YES_NO_NOT_SURE, description=description)


MECHANISMS = Table(
    "mechanisms",
    (
        Column("mechanism_id", "id", required=True, nullable=False, pattern=ID_PATTERN,
               description="unique id, letters, digits, `_`, `.`, `-`, at most 64"),
        Column("company_id", "id", required=True, nullable=False, pattern=ID_PATTERN,
               description="organisation operating or accountable for the mechanism"),
        Column("name", "str", required=True, nullable=False, description="display name"),
        Column("sector", "id", required=True, nullable=False, pattern=ID_PATTERN,
               description="e.g. garments, seafood, agriculture, electronics, tourism"),
        Column("country", "str", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2"),
        Column("mechanism_type", "enum", required=True, nullable=False, values=MECHANISM_TYPES),
        Column("target_ack_days", "int", min=0, max=365,
               description="the mechanism's own stated days to acknowledge (default 7)"),
        Column("target_close_days", "int", min=0, max=3650,
               description="the mechanism's own stated days to close (default 30)"),
    ),
    key=("mechanism_id",),
    required=True,
    description="one row per grievance mechanism evaluated",
)

CASES = Table(
    "cases",
    (
        Column("case_id", "id", required=True, nullable=False, description="unique within mechanism"),
        _mech_id(),
        Column("site_id", "str", description="workplace, factory, farm or community"),
        Column("received_at", "date", required=True, nullable=False),
        Column("acknowledged_at", "date"),
        Column("closed_at", "date"),
        Column("status", "enum", required=True, nullable=False, values=CASE_STATUS),
        Column("channel", "enum", values=CHANNELS),
        Column("complainant_type", "enum", values=COMPLAINANT_TYPES),
        _age(5, 100, what="age of the person affected, in years"),
        _gender(),
        Column("anonymous", "bool"),
        Column("category", "enum", required=True, nullable=False, values=CATEGORIES),
        Column("severity", "enum", values=SEVERITIES),
        Column("outcome", "enum", values=OUTCOMES),
        Column("complainant_informed", "bool", description="told the outcome"),
        Column("satisfaction", "likert", min=1, max=5, description="rating after closure, 1-5"),
        Column("advice_provided", "bool", description="had advice, accompaniment or representation"),
        Column("resolved_by_dialogue", "bool"),
        Column("appealed", "bool"),
        Column("referred_to", "enum", values=REFERRAL_TARGETS),
        Column("referred_at", "date"),
        Column("retaliation_reported", "bool"),
        Column("root_cause_recorded", "bool"),
        Column("assessed_at", "date", description="hotlines: report assessed"),
        Column("removed_at", "date", description="hotlines: content removed or harm stopped"),
        Column("remedy_due_at", "date"),
        Column("remedy_completed_at", "date"),
    ),
    key=("mechanism_id", "case_id"),
    description="one row per grievance, complaint or report",
    date_order=(
        ("received_at", "acknowledged_at"),
        ("received_at", "closed_at"),
        ("received_at", "referred_at"),
        ("received_at", "assessed_at"),
        ("received_at", "removed_at"),
        ("received_at", "remedy_completed_at"),
    ),
)

WORKFORCE = Table(
    "workforce",
    (
        _mech_id(),
        Column("site_id", "str"),
        Column("headcount", "int", required=True, nullable=False, min=0, max=10_000_000),
        Column("female", "int", min=0, max=10_000_000),
        Column("aged_15_17", "int", min=0, max=10_000_000),
        Column("migrant", "int", min=0, max=10_000_000),
    ),
    key=("mechanism_id", "site_id"),
    description="denominators, one row per mechanism or per site",
)

WORKER_SURVEY = Table(
    "worker_survey",
    (
        Column("respondent_id", "id", required=True, nullable=False),
        _mech_id(),
        Column("survey_date", "date"),
        _age(14, 100),
        _gender(),
        Column("migrant", "bool"),
        Column("aware", "bool", description="knows the mechanism exists"),
        Column("knows_how", "bool", description="knows how to use it"),
        _likert("trust", "trusts it to handle complaints fairly"),
        _likert("independent", "sees it as independent of management"),
        _likert("fear_retaliation", "fears negative consequences of complaining"),
        _likert("would_use", "would use it"),
        Column("used", "bool", description="has used it"),
        Column("informed_outcome", "bool", description="was told the outcome (blank if not used)"),
        _likert("satisfied", "satisfied with how it was handled (blank if not used)"),
        Column("consulted", "bool", description="was asked for views on how it works"),
    ),
    key=("mechanism_id", "respondent_id"),
    description="one row per worker respondent",
)

CHILD_SURVEY = Table(
    "child_survey",
    (
        Column("respondent_id", "id", required=True, nullable=False),
        _mech_id(),
        Column("survey_date", "date"),
        _age(8, 17, what="age in years (8-17)"),
        _gender(),
        Column("in_school", "bool"),
        Column("working", "bool"),
        _ynns("knows_where_to_tell", "knows where to tell if something bad happens at work"),
        _ynns("has_trusted_adult", "has a trusted adult to tell"),
        _ynns("safe_to_tell", "feels safe telling"),
        _ynns("listened_to", "was listened to (blank if never told anyone)"),
        _ynns("told_what_happened", "was told what happened next (blank if never told anyone)"),
    ),
    key=("mechanism_id", "respondent_id"),
    description="one row per child respondent aged 8-17",
)

CLMS_CHILDREN = Table(
    "clms_children",
    (
        Column("child_id", "id", required=True, nullable=False),
        _mech_id(),
        Column("identified_at", "date", required=True, nullable=False),
        _age(5, 17, what="age at identification (5-17)"),
        _gender(),
        Column("hazardous_work", "bool"),
        Column("in_school", "bool", description="in school at identification"),
        Column("referred_at", "date"),
        Column("remediation_started_at", "date", description="blank if none"),
        Column("remediation_types", "multi", description="`;`-separated codes"),
        Column("closed_at", "date"),
    ),
    key=("mechanism_id", "child_id"),
    description="one row per child identified by a monitoring system",
    date_order=(
        ("identified_at", "referred_at"),
        ("identified_at", "remediation_started_at"),
        ("identified_at", "closed_at"),
    ),
)

CLMS_FOLLOWUPS = Table(
    "clms_followups",
    (
        Column("child_id", "id", required=True, nullable=False),
        _mech_id(),
        Column("visit_date", "date", required=True, nullable=False),
        Column("in_child_labour", "bool"),
        Column("in_hazardous_work", "bool"),
        Column("attending_school", "bool"),
    ),
    key=("mechanism_id", "child_id", "visit_date"),
    description="one row per follow-up visit",
)

SELF_ASSESSMENT = Table(
    "self_assessment",
    (
        _mech_id(),
        Column("question_id", "id", required=True, nullable=False, pattern=ID_PATTERN),
        Column("answer", "enum", required=True, nullable=False, values=SELF_ASSESSMENT_ANSWERS),
        Column("evidence", "text",
               description="free text; only whether evidence was given is kept (evidence_provided)"),
    ),
    key=("mechanism_id", "question_id"),
    description="one row per answered self-assessment question",
)

#: Tables in dependency order (mechanisms first).
TABLE_ORDER: tuple[str, ...] = (
    "mechanisms",
    "cases",
    "workforce",
    "worker_survey",
    "child_survey",
    "clms_children",
    "clms_followups",
    "self_assessment",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        MECHANISMS,
        CASES,
        WORKFORCE,
        WORKER_SURVEY,
        CHILD_SURVEY,
        CLMS_CHILDREN,
        CLMS_FOLLOWUPS,
        SELF_ASSESSMENT,
    )
}


def table(name: str) -> Table:
    """Return the declaration of table ``name``.

    Raises
    ------
    KeyError
        If ``name`` is not a table of the contract.
    """
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(TABLE_ORDER)}") from None
