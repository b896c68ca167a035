"""The look of the SVG timeline: presence colours, the style sheet, the legend,
and text made safe (escaped, XML-clean) and fitted to the room it has.

Class names start with ``tl-`` because the style sheet of an SVG inlined in an
HTML page applies to the whole page.
"""

from __future__ import annotations

import re

# Presence colours (fill, text), one per status of the contract.
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "office": ("#66bb6a", "#10300f"),
    "meeting": ("#ef6c00", "#ffffff"),
    "lunch": ("#fbc02d", "#3a2c00"),
    "break": ("#4dd0e1", "#06343a"),
    "sick": ("#e53935", "#ffffff"),
    "out_of_office": ("#8e24aa", "#ffffff"),
    "vacation": ("#1e88e5", "#ffffff"),
    "gone_home": ("#757575", "#ffffff"),
}
UNKNOWN_STATUS = ("#bdbdbd", "#212121")

STYLE = """
.tl-t{font:11px sans-serif;fill:#263238}
.tl-s{font:10px sans-serif;fill:#546e7a}
.tl-h{font:bold 12px sans-serif;fill:#263238}
.tl-grid{stroke:#eceff1;stroke-width:1}
.tl-axis{stroke:#90a4ae;stroke-width:1}
.tl-sep{stroke:#cfd8dc;stroke-width:1}
.tl-appt{fill:#b0bec5;stroke:#546e7a;stroke-width:1}
.tl-old{fill:none;stroke:#78909c;stroke-width:1;stroke-dasharray:3 2}
.tl-del{fill:#eceff1;stroke:#b0bec5;stroke-width:1;stroke-dasharray:3 2}
.tl-lead{stroke:#78909c;stroke-width:1;stroke-dasharray:1 2}
.tl-seen{fill:#37474f}
.tl-x{stroke:#c62828;stroke-width:1.5}
.tl-ok{stroke:#7cb342;stroke-width:1}
.tl-failed{stroke:#d32f2f;stroke-width:2}
.tl-skipped{stroke:#9e9e9e;stroke-width:1;stroke-dasharray:2 1}
.tl-dec{stroke:#1565c0;stroke-width:2}
.tl-call{fill:#1565c0;stroke:#fff;stroke-width:1}
.tl-mail{fill:#fff;stroke:#6a1b9a;stroke-width:1.2}
.tl-fail{fill:#c62828;stroke:#fff;stroke-width:1}
.tl-failline{stroke:#c62828;stroke-width:1;stroke-dasharray:4 3}
.tl-faillabel{font:bold 10px sans-serif;fill:#b71c1c;paint-order:stroke;stroke:#fff;stroke-width:3}
.tl-fault{fill:#e57373;fill-opacity:.16;stroke:#e57373;stroke-opacity:.5}
.tl-faulttext{font:10px sans-serif;fill:#b71c1c;paint-order:stroke;stroke:#fff;stroke-width:3}
.tl-now{stroke:#1565c0;stroke-width:1.5}
.tl-nowtext{font:bold 10px sans-serif;fill:#1565c0}
"""

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(text: object) -> str:
    """Text safe in an XML text node or a double-quoted attribute."""
    value = _NOT_XML.sub("\ufffd", str(text))
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def fit(text: str, room: float, per_char: float) -> str:
    """``text`` cut (with an ellipsis) to about ``room`` pixels; '' when nothing fits."""
    fits = int(room // per_char)
    if fits >= len(text):
        return text
    if fits < 4:
        return ""
    return text[: fits - 1] + "…"


def num(value: float) -> str:
    """A coordinate, short: one decimal at most."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def legend(width: int, row: int, top: int) -> tuple[list[str], int]:
    """Legend fragments and the total height with it."""
    items: list[tuple[str, str]] = []  # (symbol svg at 0,0, label)
    for status, (fill, _) in STATUS_COLOURS.items():
        items.append(
            (f'<rect x="0" y="-9" width="14" height="10" fill="{fill}"/>', status.replace("_", " "))
        )
    items += [
        ('<rect class="tl-appt" x="0" y="-9" width="16" height="10" rx="2"/>', "appointment"),
        ('<rect class="tl-old" x="0" y="-9" width="16" height="10" rx="2"/>', "earlier version"),
        ('<rect class="tl-del" x="0" y="-9" width="16" height="10" rx="2"/>', "deleted"),
        ('<path class="tl-seen" d="M4 -7.5l3.5 3.5l-3.5 3.5l-3.5 -3.5z"/>', "created / changed at"),
        ('<path class="tl-ok" d="M4 -10V1"/>', "poll ok"),
        ('<path class="tl-dec" d="M4 -10V1"/>', "poll with decisions"),
        ('<path class="tl-failed" d="M4 -10V1"/>', "poll failed"),
        ('<path class="tl-skipped" d="M4 -10V1"/>', "poll skipped"),
        ('<circle class="tl-call" cx="5" cy="-4" r="4.5"/>', "call"),
        ('<rect class="tl-mail" x="0" y="-8" width="10" height="7"/>', "mail"),
        ('<path class="tl-fail" d="M5 -10l5 9h-10z"/>', "failed expectation"),
        ('<rect class="tl-fault" x="0" y="-10" width="14" height="11"/>', "fault window"),
    ]
    parts: list[str] = []
    x, y = 6.0, float(top)
    for symbol, label in items:
        room = 22 + len(label) * 6.0 + 14
        if x + room > width - 6:
            x, y = 6.0, y + row
        parts.append(
            f'<g transform="translate({num(x)} {num(y)})">{symbol}'
            f'<text class="tl-s" x="20" y="0">{esc(label)}</text></g>'
        )
        x += room
    return parts, int(y + 10)


__all__ = ["STATUS_COLOURS", "STYLE", "UNKNOWN_STATUS", "esc", "fit", "legend", "num"]
