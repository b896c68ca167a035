"""Exchange SQL for WebDAV SEARCH: the statements real clients send, refusals that name
the offending token, row evaluation, ordering, the calendar window and Range headers.

DavMail queries are spelled as DavExchangeSession.searchItems and its Condition
classes write them (Exchange 2007, ``Shallow TRAVERSAL``, ``And``/``Or``/``Not``);
K-9 Mail's come from WebDavStore/WebDavXmlBuilders.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.exchange.webdav.sql import (
    And,
    Compare,
    IsNull,
    Like,
    Not,
    Or,
    RangeHeaderError,
    Scope,
    SearchQuery,
    SelectItem,
    SqlError,
    evaluate,
    order,
    parse,
    parse_date_literal,
    parse_range,
    time_bounds,
)

CAL = "urn:schemas:calendar:"
DTSTART, DTEND, ITYPE = CAL + "dtstart", CAL + "dtend", CAL + "instancetype"
OMC = "http://schemas.microsoft.com/exchange/outlookmessageclass"
MAPI_ID = "http://schemas.microsoft.com/mapi/id/"


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


REFERENCE_CALENDAR = """SELECT "urn:schemas:httpmail:subject", "urn:schemas:calendar:dtstart", "urn:schemas:calendar:dtend",
  "urn:schemas:calendar:instancetype", "urn:schemas:calendar:busystatus"
FROM Scope('SHALLOW TRAVERSAL OF "/exchange/user1@domain.net/Calendar/"')
WHERE NOT "urn:schemas:calendar:instancetype" = 1
  AND "DAV:contentclass" = 'urn:content-classes:appointment'
  AND "urn:schemas:calendar:dtstart" < '2026/01/05 12:30:00'
  AND "urn:schemas:calendar:dtend" > '2026/01/05 11:30:00'
ORDER BY "urn:schemas:calendar:dtstart" ASC"""

_DAVMAIL_SELECT = (
    'SELECT "http://schemas.microsoft.com/exchange/permanenturl","DAV:getetag",'
    '"DAV:displayname","urn:schemas:calendar:instancetype",'
    '"http://schemas.microsoft.com/mapi/proptag/x10f3001f","urn:schemas:httpmail:subject",'
    '"DAV:contentclass"'
)
_DAVMAIL_FROM = " FROM SCOPE('Shallow TRAVERSAL OF \"/exchange/user1@domain.net/Calendar\"')"
_DAVMAIL_ORDER = ' ORDER BY "http://schemas.microsoft.com/mapi/proptag/x0e230003" DESC'
DAVMAIL_CALENDAR = (
    _DAVMAIL_SELECT + _DAVMAIL_FROM + ' WHERE ("DAV:isfolder" = false And "DAV:ishidden" = false'
    f" And (((\"{OMC}\" = 'IPM.Appointment' Or \"{OMC}\" = 'IPM.Appointment.MeetingEvent')"
    f' And ("{ITYPE}" = 1 Or ("{ITYPE}" = 0 And ("{DTEND}" > \'2026/01/01 00:00:00\''
    f" And \"{DTSTART}\" < '2026/02/01 00:00:00'))))))" + _DAVMAIL_ORDER
)
DAVMAIL_CONTACTS = (
    'SELECT "http://schemas.microsoft.com/exchange/permanenturl",'
    '"http://schemas.microsoft.com/mapi/proptag/x0e230003","DAV:getetag",'
    '"urn:schemas:contacts:cn","urn:schemas:contacts:givenName","urn:schemas:contacts:sn",'
    f'"{MAPI_ID}{{00062004-0000-0000-c000-000000000046}}/32899" as email1,'
    f'"{MAPI_ID}{{00062004-0000-0000-c000-000000000046}}/32900" as smtpemail1,'
    '"urn:schemas:contacts:telephoneNumber","urn:schemas:contacts:mobile"'
    " FROM SCOPE('Shallow TRAVERSAL OF \"/exchange/user1@domain.net/Contacts\"')"
    f' WHERE ("{OMC}" = \'IPM.Contact\' And "DAV:isfolder" = false And "DAV:ishidden" = false'
    f" And \"{OMC}\" = 'IPM.Contact')" + _DAVMAIL_ORDER
)
K9_FOLDERS = (
    'SELECT "DAV:uid", "DAV:ishidden"\r\n FROM SCOPE(\'deep traversal of '
    '"https://srv/exchange/user1/"\')\r\n WHERE "DAV:ishidden"=False AND "DAV:isfolder"=True\r\n'
)
K9_ENVELOPES = (
    'SELECT "DAV:uid", "DAV:getcontentlength", "urn:schemas:mailheader:subject",'
    ' "urn:schemas:httpmail:read" \r\n FROM ""\r\n'
    ' WHERE "DAV:ishidden"=False AND "DAV:isfolder"=False AND  "DAV:uid"=\'u1\'   OR '
    " \"DAV:uid\"='u2' \r\n"
)


def _term(q: SearchQuery, *path: int) -> Any:
    """The WHERE node at ``path`` of operand indexes (And/Or nesting)."""
    node: Any = q.where
    for i in path:
        node = node.operands[i]
    return node


# (id, statement, check on the parsed query)
VALID: list[tuple[str, str, Callable[[SearchQuery], bool]]] = [
    (
        "reference-calendar",
        REFERENCE_CALENDAR,
        lambda q: (
            q.scopes == (Scope("shallow", "/exchange/user1@domain.net/Calendar/"),)
            and len(q.select) == 5
            and q.order_by == ((DTSTART, True),)
            and isinstance(q.where, And)
            and q.where.operands[0] == Not(Compare(ITYPE, "=", 1))
        ),
    ),
    (
        "reference-public-folders",
        'SELECT "DAV:displayname","DAV:href" FROM SCOPE(\'SHALLOW TRAVERSAL\n  OF "/public/"\')'
        ' WHERE "DAV:isfolder" = True AND "DAV:ishidden" = False',
        lambda q: (
            q.where
            == And((Compare("DAV:isfolder", "=", True), Compare("DAV:ishidden", "=", False)))
        ),
    ),
    (
        "reference-public-contacts",
        'SELECT "urn:schemas:contacts:cn" FROM SCOPE(\'SHALLOW TRAVERSAL OF "/public/Kontakte/"\')'
        ' WHERE "DAV:isfolder" = false AND "DAV:ishidden" = false AND'
        " \"DAV:contentclass\" = 'urn:content-classes:person'",
        lambda q: isinstance(q.where, And) and len(q.where.operands) == 3,
    ),
    (
        "davmail-calendar-range",
        DAVMAIL_CALENDAR,
        lambda q: (
            q.scopes[0].traversal == "shallow"
            and q.order_by == (("http://schemas.microsoft.com/mapi/proptag/x0e230003", False),)
            and isinstance(q.where, And)
            and len(q.where.operands) == 3
        ),
    ),
    (
        "davmail-contacts",
        DAVMAIL_CONTACTS,
        lambda q: (
            SelectItem(f"{MAPI_ID}{{00062004-0000-0000-c000-000000000046}}/32899", "email1")
            in q.select
        ),
    ),
    (
        "davmail-folders",
        'SELECT "http://schemas.microsoft.com/exchange/permanenturl","DAV:displayname"'
        " FROM SCOPE('Deep TRAVERSAL OF \"/exchange/user1@domain.net/\"')"
        ' WHERE ("DAV:isfolder" = true And "DAV:ishidden" = false And'
        " ((\"http://schemas.microsoft.com/exchange/outlookfolderclass\" = 'IPF.Note' Or"
        ' "http://schemas.microsoft.com/exchange/outlookfolderclass" is null)))' + _DAVMAIL_ORDER,
        lambda q: (
            q.scopes[0].traversal == "deep"
            and IsNull("http://schemas.microsoft.com/exchange/outlookfolderclass") == _term(q, 2, 1)
        ),
    ),
    (
        "davmail-item-by-name",
        _DAVMAIL_SELECT + _DAVMAIL_FROM + ' WHERE ("DAV:isfolder" = false And "DAV:ishidden" ='
        " false And \"http://schemas.microsoft.com/mapi/proptag/x10f3001f\" = 'it''s.EML')"
        + _DAVMAIL_ORDER,
        lambda q: _term(q, 2).value == "it's.EML",
    ),
    (
        "davmail-event-messages",
        _DAVMAIL_SELECT + " FROM SCOPE('Shallow TRAVERSAL OF \"/exchange/user1@domain.net/Inbox\"')"
        ' WHERE ("DAV:isfolder" = false And "DAV:ishidden" = false And ("DAV:contentclass" ='
        " 'urn:content-classes:calendarmessage' And"
        ' ("http://schemas.microsoft.com/mapi/proptag/x65e8000b" is null Or'
        ' "http://schemas.microsoft.com/mapi/proptag/x65e8000b" = false)))' + _DAVMAIL_ORDER,
        lambda q: isinstance(q.where, And) and isinstance(q.where.operands[2], And),
    ),
    (
        "davmail-tasks",
        _DAVMAIL_SELECT + " FROM SCOPE('Shallow TRAVERSAL OF \"/exchange/user1@domain.net/Tasks\"')"
        f' WHERE ("DAV:isfolder" = false And "DAV:ishidden" = false And ("{OMC}" = \'IPM.Task\''
        f' And ("{MAPI_ID}{{00062003-0000-0000-c000-000000000046}}/0x810f" is null Or'
        f" \"{MAPI_ID}{{00062003-0000-0000-c000-000000000046}}/0x810f\" > '2025/12/01 00:00:00')))"
        + _DAVMAIL_ORDER,
        lambda q: q.where is not None,
    ),
    (
        "davmail-carddav-like",
        'SELECT "urn:schemas:contacts:cn" FROM SCOPE(\'Shallow TRAVERSAL OF "/exchange/u/Contacts"\')'
        ' WHERE ("urn:schemas:contacts:cn" like \'%smith%\' Or "urn:schemas:contacts:email1"'
        " like '%smith%')",
        lambda q: (
            q.where
            == Or(
                (
                    Like("urn:schemas:contacts:cn", "%smith%"),
                    Like("urn:schemas:contacts:email1", "%smith%"),
                )
            )
        ),
    ),
    (
        "davmail-exists-and-private",
        'SELECT "DAV:getetag" FROM SCOPE(\'Shallow TRAVERSAL OF "/exchange/u/Calendar"\')'
        ' WHERE ((Not "urn:schemas:calendar:uid" is null) And'
        ' "http://schemas.microsoft.com/mapi/proptag/x00360003" = 0)',
        lambda q: _term(q, 0) == Not(IsNull(CAL + "uid")),
    ),
    (
        "davmail-cast-binary",
        'SELECT "DAV:getetag" FROM SCOPE(\'Shallow TRAVERSAL OF "/exchange/u/Contacts"\')'
        ' WHERE "http://schemas.microsoft.com/mapi/proptag/x0ff90102" = CAST ("AQID" as \'bin.base64\')',
        lambda q: (
            q.where == Compare("http://schemas.microsoft.com/mapi/proptag/x0ff90102", "=", "AQID")
        ),
    ),
    (
        "k9-folder-list",
        K9_FOLDERS,
        lambda q: (
            q.scopes == (Scope("deep", "https://srv/exchange/user1/"),)
            and q.scopes[0].path == "/exchange/user1/"
        ),
    ),
    (
        "k9-envelopes",
        K9_ENVELOPES,
        lambda q: q.scopes == (Scope("shallow", ""),) and isinstance(q.where, Or),
    ),
    (
        "ms-scope-without-depth-is-deep",
        'SELECT "DAV:href" FROM SCOPE("https://server/vroot/folder1")',
        lambda q: q.scopes == (Scope("deep", "https://server/vroot/folder1"),) and q.where is None,
    ),
    (
        "ms-scope-string-without-depth-is-deep",
        'SELECT "DAV:href" FROM SCOPE(\'"/folder1/"\')',
        lambda q: q.scopes == (Scope("deep", "/folder1/"),),
    ),
    (
        "ms-from-url-is-shallow",
        'SELECT "urn:httpmail:subject" FROM "https://server/vroot/folder1"',
        lambda q: q.scopes == (Scope("shallow", "https://server/vroot/folder1"),),
    ),
    (
        "ms-cast-property",
        'SELECT "DAV:href" FROM "/x/" WHERE CAST("custom:mydateprop" AS "dateTime") > "1998-02-01T10:00"',
        lambda q: q.where == Compare("custom:mydateprop", ">", "1998-02-01T10:00", "dateTime"),
    ),
    (
        "ms-cast-int",
        'SELECT "DAV:href" FROM "/x/" WHERE "custom:count" > CAST("0" AS "int")',
        lambda q: q.where == Compare("custom:count", ">", 0),
    ),
    (
        "ms-cast-datetime-tz",
        'SELECT "DAV:href" FROM "/x/" WHERE "custom:creationdate" ='
        ' CAST("1999-10-22T22:12:40.296Z" as "dateTime.tz")',
        lambda q: (
            q.where == Compare("custom:creationdate", "=", utc(1999, 10, 22, 22, 12, 40, 296000))
        ),
    ),
    (
        "ms-like-double-quoted",
        'SELECT "DAV:href" FROM "/x/" WHERE "urn:schemas:mailheader:to" LIKE "someone"',
        lambda q: q.where == Like("urn:schemas:mailheader:to", "someone"),
    ),
    (
        "ms-like-bare-word",
        'SELECT "DAV:href" FROM "/x/" WHERE "urn:schemas:mailheader:to" LIKE someone',
        lambda q: q.where == Like("urn:schemas:mailheader:to", "someone"),
    ),
    (
        "brief-cast-single-quoted-type",
        f'SELECT "DAV:href" FROM "/x/" WHERE "{DTSTART}" < cast(\'2026-01-05T12:00:00Z\' As "dateTime")',
        lambda q: q.where == Compare(DTSTART, "<", utc(2026, 1, 5, 12)),
    ),
    (
        "several-scopes",
        'SELECT "DAV:href" FROM SCOPE(\'shallow traversal of "/a/"\', \'HIERARCHICAL traversal OF "/b/"\')',
        lambda q: q.scopes == (Scope("shallow", "/a/"), Scope("hierarchical", "/b/")),
    ),
    ("select-star", 'SELECT * FROM "/x/"', lambda q: q.select_all and q.select == ()),
    (
        "lower-case-keywords",
        'select "a" from scope(\'shallow traversal of "/x/"\') where not "a" = true or "b" is not null'
        ' order by "a" desc, "b"',
        lambda q: (
            q.where == Or((Not(Compare("a", "=", True)), IsNull("b", negated=True)))
            and q.order_by == (("a", False), ("b", True))
        ),
    ),
    (
        "operators-and-negative-integers",
        'SELECT "a" FROM "/x/" WHERE "a" <> -5 AND "a" != 3 AND "a" <= 10 AND "a" >= -10 AND "a" < 7',
        lambda q: (
            [_term(q, i).op for i in range(5)] == ["<>", "<>", "<=", ">=", "<"]
            and _term(q, 0).value == -5
        ),
    ),
    (
        "not-like",
        'SELECT "a" FROM "/x/" WHERE "urn:schemas:httpmail:subject" NOT LIKE \'%[draft]%\'',
        lambda q: q.where == Like("urn:schemas:httpmail:subject", "%[draft]%", negated=True),
    ),
    (
        "iso-date-literal",
        f'SELECT "a" FROM "/x/" WHERE "{DTEND}" >= \'2026-01-05T11:30:00Z\'',
        lambda q: time_bounds(q.where) == (None, utc(2026, 1, 5, 11, 30)),
    ),
    (
        "nested-parentheses",
        'SELECT "a" FROM "/x/" WHERE ((("a" = 1)) AND (("b" = 2) OR ("c" = 3)))',
        lambda q: (
            q.where == And((Compare("a", "=", 1), Or((Compare("b", "=", 2), Compare("c", "=", 3)))))
        ),
    ),
    (
        "absolute-url-with-port",
        'SELECT "a" FROM SCOPE(\'shallow traversal of "https://srv:8443/exchange/u%40d/Kalender/"\')',
        lambda q: q.scopes[0].path == "/exchange/u%40d/Kalender/",
    ),
]

# (id, statement, the token the message must name)
INVALID: list[tuple[str, str, str]] = [
    ("misspelt-from", 'SELECT "a", "b" FORM "/x/"', "FORM"),
    ("no-from", 'SELECT "a"', ""),
    ("empty", "   ", ""),
    ("select-nothing", 'SELECT FROM "/x/"', "FROM"),
    ("misspelt-depth", 'SELECT "a" FROM SCOPE(\'SHALOW TRAVERSAL OF "/x/"\')', "SHALOW"),
    ("misspelt-traversal", 'SELECT "a" FROM SCOPE(\'deep TRAVERSE OF "/x/"\')', "TRAVERSE"),
    ("scope-missing-of", 'SELECT "a" FROM SCOPE(\'deep traversal "/x/"\')', '"/x/"'),
    ("scope-unclosed-url", 'SELECT "a" FROM SCOPE(\'deep traversal of "/x/\')', '"/x/'),
    ("scope-trailing-word", 'SELECT "a" FROM SCOPE(\'"/x/" please\')', "please"),
    ("scope-empty", 'SELECT "a" FROM SCOPE()', ")"),
    ("scope-unclosed", 'SELECT "a" FROM SCOPE(\'"/x/"\' WHERE', "WHERE"),
    (
        "k9-group-by",
        'SELECT "DAV:visiblecount"\r\n FROM ""\r\n WHERE "DAV:ishidden"=False AND'
        ' "DAV:isfolder"=False AND "urn:schemas:httpmail:read"=True\r\n GROUP BY "DAV:ishidden"\r\n',
        "GROUP",
    ),
    ("contains", 'SELECT "a" FROM "/x/" WHERE CONTAINS(\'"this"\')', "CONTAINS"),
    ("decimal", 'SELECT "a" FROM "/x/" WHERE "a" > 34.88', "34.88"),
    ("unterminated-string", 'SELECT "a" FROM "/x/" WHERE "a" = \'oops', "'oops"),
    ("unbalanced-names", 'SELECT "a FROM "/x/"', "/"),
    ("unterminated-name", 'SELECT "a", "b FROM x', '"b FROM x'),
    ("semicolon", 'SELECT "a" FROM "/x/";', ";"),
    ("double-equals", 'SELECT "a" FROM "/x/" WHERE "a" == 1', "="),
    ("where-and", 'SELECT "a" FROM "/x/" WHERE AND "a" = 1', "AND"),
    ("dangling-and", 'SELECT "a" FROM "/x/" WHERE "a" = 1 AND', ""),
    ("missing-paren", 'SELECT "a" FROM "/x/" WHERE ("a" = 1', ""),
    ("extra-paren", 'SELECT "a" FROM "/x/" WHERE "a" = 1)', ")"),
    ("empty-property", 'SELECT "a" FROM "/x/" WHERE "" = 1', '""'),
    ("like-number", 'SELECT "a" FROM "/x/" WHERE "a" LIKE 5', "5"),
    ("is-nul", 'SELECT "a" FROM "/x/" WHERE "a" IS NUL', "NUL"),
    ("not-equals-word", 'SELECT "a" FROM "/x/" WHERE "a" NOT = 1', "="),
    (
        "cast-type-case",
        'SELECT "a" FROM "/x/" WHERE "a" > CAST(\'2026-01-01\' AS \'datetime\')',
        "'datetime'",
    ),
    ("cast-bad-date", 'SELECT "a" FROM "/x/" WHERE "a" > CAST(\'soon\' AS \'dateTime\')', "'soon'"),
    ("cast-no-as", 'SELECT "a" FROM "/x/" WHERE "a" > CAST(\'1\' \'int\')', "'int'"),
    ("order-trailing", 'SELECT "a" FROM "/x/" ORDER BY "a" DESC "b"', '"b"'),
    ("order-without-by", 'SELECT "a" FROM "/x/" ORDER "a"', '"a"'),
    ("bare-property", 'SELECT "a" FROM "/x/" WHERE subject = 1', "subject"),
    ("literal-on-left", 'SELECT "a" FROM "/x/" WHERE \'x\' = "a"', "'x'"),
    ("stray-character", 'SELECT "a" FROM "/x/" WHERE "a" = 1 & "b" = 2', "&"),
]


@pytest.mark.parametrize(("sql", "check"), [v[1:] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_statements_parse(sql: str, check: Callable[[SearchQuery], bool]) -> None:
    assert check(parse(sql))


@pytest.mark.parametrize(("sql", "token"), [v[1:] for v in INVALID], ids=[v[0] for v in INVALID])
def test_invalid_statements_name_the_token_and_column(sql: str, token: str) -> None:
    with pytest.raises(SqlError) as caught:
        parse(sql)
    error = caught.value
    assert error.token == token
    assert f"at column {error.position + 1}" in error.message
    if token:
        assert repr(token) in error.message
        assert sql.find(token[:8]) <= error.position


def test_error_message_reads_like_the_brief() -> None:
    with pytest.raises(SqlError) as caught:
        parse('SELECT "urn:schemas:httpmail:subject" FORM "/x/"')
    assert str(caught.value) == "unexpected token 'FORM' at column 39: expected FROM"
    with pytest.raises(SqlError, match="GROUP BY is not supported"):
        parse('SELECT "a" FROM "/x/" GROUP BY "a"')


def test_nesting_is_bounded() -> None:
    deep = 'SELECT "a" FROM "/x/" WHERE ' + "(" * 500 + '"a" = 1' + ")" * 500
    with pytest.raises(SqlError, match="nested too deeply"):
        parse(deep)
    with pytest.raises(SqlError, match="nested too deeply"):
        parse('SELECT "a" FROM "/x/" WHERE ' + "NOT " * 500 + '"a" = 1')


def test_precedence_not_over_and_over_or() -> None:
    where = parse('SELECT "a" FROM "/x/" WHERE NOT "a" = 1 AND "b" = 1 OR "c" = 1').where
    assert where == Or(
        (And((Not(Compare("a", "=", 1)), Compare("b", "=", 1))), Compare("c", "=", 1))
    )
    where = parse('SELECT "a" FROM "/x/" WHERE "a" = 1 OR "b" = 1 AND NOT NOT "c" = 1').where
    assert where == Or(
        (Compare("a", "=", 1), And((Compare("b", "=", 1), Not(Not(Compare("c", "=", 1))))))
    )
    # a=1 OR (b=1 AND c=1): true through the OR alone.
    assert evaluate(where, {"a": 1, "b": 0, "c": 0})
    assert not evaluate(where, {"a": 0, "b": 1, "c": 0})


# ------------------------------------------------------------------ evaluation
def test_reference_calendar_query_over_rows() -> None:
    query = parse(REFERENCE_CALENDAR)
    base = {"DAV:contentclass": "urn:content-classes:appointment"}
    single = {**base, ITYPE: 0, DTSTART: utc(2026, 1, 5, 11), DTEND: utc(2026, 1, 5, 12)}
    master = {**single, ITYPE: 1}
    instance = {**single, ITYPE: 2}
    later = {**single, DTSTART: utc(2026, 1, 5, 12, 30), DTEND: utc(2026, 1, 5, 13)}
    shouted = {**single, "DAV:contentclass": "URN:Content-Classes:Appointment"}
    contact = {"DAV:contentclass": "urn:content-classes:person"}
    assert [
        evaluate(query.where, r) for r in (single, master, instance, later, shouted, contact)
    ] == [
        True,
        False,
        True,
        False,  # dtstart < 12:30 is strict
        True,  # Exchange compares strings ignoring case
        False,
    ]


def test_davmail_range_query_over_rows() -> None:
    where = parse(DAVMAIL_CALENDAR).where
    row = {
        "DAV:isfolder": False,
        "DAV:ishidden": False,
        OMC: "IPM.Appointment",
        ITYPE: 0,
        DTSTART: utc(2026, 1, 10, 9),
        DTEND: utc(2026, 1, 10, 10),
    }
    assert evaluate(where, row)
    assert evaluate(where, {**row, ITYPE: 1, DTSTART: utc(2020, 1, 1), DTEND: utc(2020, 1, 1, 1)})
    assert not evaluate(where, {**row, ITYPE: 2})
    assert not evaluate(where, {**row, DTSTART: utc(2026, 2, 1)})
    assert not evaluate(where, {**row, "DAV:ishidden": True})


@pytest.mark.parametrize(
    ("condition", "row_value", "expected"),
    [
        ("\"p\" = '1'", 1, True),  # a string literal takes the int property's type
        ('"p" = 1', "1", True),  # an integer against a string property compares as text
        ("\"p\" = 'true'", True, True),
        ('"p" = TRUE', 1, True),
        ("\"p\" = '0'", False, True),
        ("\"p\" = 'FALSE'", True, False),
        ("\"p\" < '2026/01/05 12:30:00'", utc(2026, 1, 5, 12, 29, 59), True),
        ("\"p\" = '2026-01-05T13:30:00+01:00'", utc(2026, 1, 5, 12, 30), True),
        ("\"p\" = '2026-01-05 12:30'", datetime(2026, 1, 5, 12, 30), True),  # naive row = UTC
        (
            '"p" >= CAST("2026-01-05T12:30:00.0000000Z" as \'dateTime.tz\')',
            utc(2026, 1, 5, 12, 30),
            True,
        ),
        ("\"p\" > 'apple'", "Banana", True),  # case-insensitive ordering of strings
        ("\"p\" = 'straße'", "STRASSE", True),  # casefold
        ('"p" = TRUE', "n/a", False),  # a string row that is no boolean just does not match
        ("\"p\" = 'b'", ["a", "B"], True),  # multi-valued: any value
        ("\"p\" = 'c'", ["a", "B"], False),
        ("CAST(\"p\" AS 'int') > 9", "10", True),
        ('CAST("p" AS "dateTime") > \'2026/01/01 00:00:00\'', "2026-02-01T00:00:00Z", True),
    ],
)
def test_literals_take_the_row_values_type(
    condition: str, row_value: object, expected: bool
) -> None:
    where = parse(f'SELECT "p" FROM "/x/" WHERE {condition}').where
    assert evaluate(where, {"p": row_value}) is expected


@pytest.mark.parametrize(
    ("condition", "row_value"),
    [("\"p\" < 'soon'", utc(2026, 1, 1)), ("\"p\" = 'one'", 1), ('"p" = 5', True)],
)
def test_a_literal_that_cannot_take_the_type_is_an_sql_error(
    condition: str, row_value: object
) -> None:
    where = parse(f'SELECT "p" FROM "/x/" WHERE {condition}').where
    with pytest.raises(SqlError, match="cannot compare 'p'") as caught:
        evaluate(where, {"p": row_value})
    assert (
        caught.value.position == len('SELECT "p" FROM "/x/" WHERE ') + condition.index(" ", 4) + 1
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('"p" = 1', False),
        ('"p" <> 1', False),
        ('NOT "p" = 1', True),
        ("\"p\" LIKE '%'", False),
        ("\"p\" NOT LIKE 'x%'", True),
        ('"p" IS NULL', True),
        ('"p" IS NOT NULL', False),
        ('NOT ("p" = 1 OR "p" = 2)', True),
    ],
)
def test_missing_values(condition: str, expected: bool) -> None:
    where = parse(f'SELECT "p" FROM "/x/" WHERE {condition}').where
    assert evaluate(where, {}) is expected
    assert evaluate(where, {"p": None}) is expected
    assert evaluate(where, {"p": []}) is expected
    assert evaluate(where, lambda name: None) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("%", "", True),
        ("%smith%", "John SMITH jr", True),
        ("smith", "Smith", True),
        ("smith", "Smithers", False),
        ("Inb%", "Inbox", True),
        ("_nbox", "Inbox", True),
        ("_nbox", "nbox", False),
        ("a_c", "abbc", False),
        ("a.c", "abc", False),  # regex characters are literal
        ("(x)%", "(x) y", True),
        ("[draft]%", "[Draft] plan", True),
        ("%line", "first\nline", True),
        ("1%", 12, True),  # integers match as text
        ("%", True, False),
    ],
)
def test_like(pattern: str, value: object, expected: bool) -> None:
    where = parse(f'SELECT "p" FROM "/x/" WHERE "p" LIKE \'{pattern}\'').where
    assert evaluate(where, {"p": value}) is expected


def test_property_names_are_case_sensitive() -> None:
    where = parse('SELECT "a" FROM "/x/" WHERE "urn:schemas:contacts:givenName" = \'Ann\'').where
    assert evaluate(where, {"urn:schemas:contacts:givenName": "ann"})
    assert not evaluate(where, {"urn:schemas:contacts:givenname": "ann"})


def test_no_condition_matches_everything() -> None:
    assert evaluate(parse('SELECT * FROM "/x/"').where, {})


# ------------------------------------------------------------------ ORDER BY
def test_order_by_several_keys() -> None:
    rows = [
        {"id": 1, "s": "b", "d": utc(2026, 1, 2)},
        {"id": 2, "s": "A", "d": utc(2026, 1, 1)},
        {"id": 3, "s": "a", "d": utc(2026, 1, 3)},
        {"id": 4, "d": utc(2026, 1, 1)},
        {"id": 5, "s": "B", "d": utc(2026, 1, 2)},
    ]
    keys = parse('SELECT * FROM "/x/" ORDER BY "s", "d" DESC').order_by
    assert [r["id"] for r in order(rows, keys)] == [4, 3, 2, 1, 5]  # ties keep store order
    keys = parse('SELECT * FROM "/x/" ORDER BY "s" DESC, "id" DESC').order_by
    assert [r["id"] for r in order(rows, keys)] == [5, 1, 3, 2, 4]  # missing last descending


def test_order_with_a_getter_and_mixed_types() -> None:
    rows = [("x", 3), ("y", "two"), ("z", None), ("w", utc(2026, 1, 1)), ("v", True)]
    ordered = order(rows, [("v", True)], get=lambda row, prop: row[1])
    assert [r[0] for r in ordered] == ["z", "v", "x", "w", "y"]


# ------------------------------------------------------------------ time_bounds
def test_time_bounds_of_the_reference_query() -> None:
    assert time_bounds(parse(REFERENCE_CALENDAR).where) == (
        utc(2026, 1, 5, 12, 30),
        utc(2026, 1, 5, 11, 30),
    )


def test_time_bounds_only_from_the_top_level_conjunction() -> None:
    assert time_bounds(parse(DAVMAIL_CALENDAR).where) == (None, None)  # range is under an OR
    where = parse(
        f'SELECT * FROM "/x/" WHERE "{DTSTART}" <= \'2026/01/09 00:00:00\' AND ("a" = 1 AND'
        f' ("{DTEND}" >= CAST("2026-01-02T00:00:00Z" as \'dateTime.tz\')'
        f" AND \"{DTSTART}\" < '2026-01-08T00:00:00Z')) AND NOT \"{DTEND}\" > '2026/01/05 00:00:00'"
        f" AND \"{DTEND}\" > '2026/01/01 00:00:00' AND \"{DTSTART}\" > '2026/01/01 00:00:00'"
    ).where
    assert time_bounds(where) == (utc(2026, 1, 8), utc(2026, 1, 2))  # the tightest of each
    assert time_bounds(
        parse(f'SELECT * FROM "/x/" WHERE "{DTEND}" > \'2026/01/01 00:00:00\'').where
    ) == (
        None,
        utc(2026, 1, 1),
    )
    assert time_bounds(None) == (None, None)


def test_time_bounds_refuses_a_bound_that_is_no_date() -> None:
    where = parse(f'SELECT * FROM "/x/" WHERE "{DTSTART}" < \'next week\'').where
    with pytest.raises(SqlError, match="needs a date"):
        time_bounds(where)


# ------------------------------------------------------------------ literals and Range
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026/01/05 12:30:00", utc(2026, 1, 5, 12, 30)),
        ("2026-01-05T12:30:00Z", utc(2026, 1, 5, 12, 30)),
        ("2026-01-05T12:30:00.1234567Z", utc(2026, 1, 5, 12, 30, 0, 123456)),
        ("2026-01-05T14:30:00+02:00", utc(2026, 1, 5, 12, 30)),
        ("2026-01-05T10:30-0200", utc(2026, 1, 5, 12, 30)),
        ("2026-01-05", utc(2026, 1, 5)),
        (" 2026/1/5 7:05 ", utc(2026, 1, 5, 7, 5)),
        ("2026-13-01T00:00:00Z", None),
        ("2026/01-05", None),
        ("05.01.2026 12:30", None),
        ("9999-12-31T23:00:00-02:00", None),
        ("tomorrow", None),
    ],
)
def test_date_literals(text: str, expected: datetime | None) -> None:
    parsed = parse_date_literal(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("rows=0-99", (0, 99)),
        ("Rows = 20 - 39", (20, 39)),
        ("rows=228-", (228, None)),
        ("rows=0-0", (0, 0)),
    ],
)
def test_range_header(header: str, expected: tuple[int, int | None]) -> None:
    assert parse_range(header) == expected


@pytest.mark.parametrize(
    "header",
    ["", "rows", "bytes=0-99", "rows=-50", "rows=a-b", "rows=10-5", "rows=0-5, 10-15", "rows=0-1x"],
)
def test_range_header_garbage(header: str) -> None:
    with pytest.raises(RangeHeaderError):
        parse_range(header)


# ------------------------------------------------------------------ fuzzing
_SEEDS = [REFERENCE_CALENDAR, DAVMAIL_CALENDAR, DAVMAIL_CONTACTS, K9_FOLDERS, K9_ENVELOPES] + [
    v[1] for v in VALID[12:]
]
_PIECES = st.sampled_from(
    [
        "'",
        '"',
        "(",
        ")",
        ",",
        "*",
        "=",
        "<>",
        "<",
        ">=",
        "!",
        "-",
        "1",
        "1.5",
        " ",
        "NOT ",
        " AND ",
        " OR ",
        "LIKE ",
        "IS ",
        "NULL",
        "CAST(",
        " AS ",
        "'dateTime'",
        "SCOPE(",
        "%",
        "_",
        "\n",
        "é",
        "\x00",
    ]
)


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    sql = draw(st.sampled_from(_SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(sql)))
        j = draw(st.integers(i, min(len(sql), i + 12)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "upper"]))
        if action == "delete":
            sql = sql[:i] + sql[j:]
        elif action == "insert":
            sql = sql[:i] + draw(_PIECES) + sql[i:]
        elif action == "replace":
            sql = sql[:i] + draw(st.one_of(_PIECES, st.text(max_size=3))) + sql[j:]
        else:
            sql = sql[:i] + sql[i:j].swapcase() + sql[j:]
    return sql


_ROW = {
    DTSTART: utc(2026, 1, 5, 11),
    DTEND: utc(2026, 1, 5, 12),
    ITYPE: 0,
    "DAV:isfolder": False,
    "DAV:ishidden": False,
    "DAV:contentclass": "urn:content-classes:appointment",
    OMC: "IPM.Appointment",
    "urn:schemas:contacts:cn": ["a", "b"],
}


def _only_sql_errors(sql: str) -> None:
    try:
        query = parse(sql)
    except SqlError as error:
        assert error.message and isinstance(error.position, int)
        return
    for call in (lambda: evaluate(query.where, _ROW), lambda: time_bounds(query.where)):
        with contextlib.suppress(SqlError):
            call()
    order([_ROW, {}], query.order_by)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), _mutated()))
def test_any_input_parses_or_raises_sql_error(sql: str) -> None:
    _only_sql_errors(sql)


@pytest.mark.parametrize("sql", _SEEDS)
def test_every_prefix_parses_or_raises_sql_error(sql: str) -> None:
    for end in range(len(sql) + 1):
        _only_sql_errors(sql[:end])
