"""OWA's calendar: a week view and forms to create, edit and delete appointments.

Pages (below /owa, after log-in): ``/`` the week (``?date=YYYY-MM-DD`` picks it,
default today on the Exchange clock), ``/appointment/new``, ``/appointment/edit?id=``,
and the POST targets ``/appointment/save`` and ``/appointment/delete``. Every POST
carries OWA's canary (``hidcanary``, the session's UserContext value) or is refused
with 403. ``mailbox=`` opens another mailbox, with FullAccess. Times are shown and
typed in the mailbox's time zone; changes go to the one store, so the sync engine
sees them on its next poll.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from simulators.exchange.ews.context import MAILBOX_TARGET_KEY
from simulators.exchange.model import Account, CalendarItem, Mailbox, Occurrence
from simulators.exchange.owa import forms
from simulators.exchange.owa.html import Reply, checkbox, esc, hidden, page, redirect, select
from simulators.exchange.owa.html import text_input as field
from simulators.exchange.owa.logon import first, read_form
from simulators.exchange.owa.sessions import SESSION_KEY, SiteAuth
from simulators.exchange.recurrence import localize
from simulators.exchange.store import ExchangeStore, StoreError
from simulators.exchange.timerange import RANGE_TEXT, date_in_range


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at the start and end of ``day``."""
    start = localize(datetime.combine(day, time()), zone)
    return start, localize(datetime.combine(day + timedelta(days=1), time()), zone)


class PageError(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class OwaCalendar:
    """Request handling of the calendar pages for one authenticated account."""

    def __init__(self, store: ExchangeStore, auth: SiteAuth) -> None:
        self.store = store
        self.auth = auth

    def handle(self, environ: dict[str, Any], account: Account) -> Reply:
        path = environ.get("PATH_INFO", "").rstrip("/").lower()
        method = environ.get("REQUEST_METHOD", "GET")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if method == "POST":
                form = read_form(environ)
                self._check_canary(environ, account, first(form, "hidcanary"))
                mailbox = self._mailbox(account, first(form, "mailbox"))
                environ[MAILBOX_TARGET_KEY] = mailbox.smtp
                if path == "/appointment/save":
                    return self._save(environ, account, mailbox, form)
                if path == "/appointment/delete":
                    return self._delete(account, mailbox, first(form, "id"))
                raise PageError("404 Not Found", "There is no such page.")
            mailbox = self._mailbox(account, query.get("mailbox", ""))
            environ[MAILBOX_TARGET_KEY] = mailbox.smtp
            if path in ("", "/calendar"):
                return self._week(environ, account, mailbox, query.get("date", ""))
            if path == "/appointment/new":
                start = query.get("date") or self._today(mailbox).isoformat()
                try:
                    forms.check_day(start, "date")
                except forms.FormError as exc:
                    raise PageError("400 Bad Request", exc.message) from None
                blank = forms.AppointmentForm(start_date=start, end_date=start)
                return self._form(environ, account, mailbox, blank, None)
            if path == "/appointment/edit":
                return self._edit(environ, account, mailbox, query.get("id", ""))
            raise PageError("404 Not Found", "There is no such page.")
        except PageError as exc:
            body = f'<p class="error" id="page-error" role="alert">{esc(exc.message)}</p>'
            body += '<p><a href="/owa/">Back to the calendar</a></p>'
            return page("Outlook Web Access", body, user=account.upn, status=exc.status)

    # ------------------------------------------------------------------ helpers
    def canary(self, environ: dict[str, Any], account: Account) -> str:
        session = environ.get(SESSION_KEY)
        return session.canary if session is not None else self.auth.basic_canary(account)

    def _check_canary(self, environ: dict[str, Any], account: Account, sent: str) -> None:
        if not sent or not secrets.compare_digest(sent, self.canary(environ, account)):
            raise PageError("403 Forbidden", "The request was refused (missing or wrong canary).")

    def _mailbox(self, account: Account, wanted: str) -> Mailbox:
        smtp = wanted or account.smtp or ""
        try:
            mailbox = self.store.mailbox(smtp) if smtp else None
        except StoreError:
            raise PageError("404 Not Found", f"There is no mailbox {wanted}.") from None
        if mailbox is None:
            raise PageError("404 Not Found", "This account has no mailbox; add ?mailbox=.")
        try:
            self.store.check_access(account, mailbox)
        except StoreError:
            raise PageError("403 Forbidden", f"You do not have access to {mailbox.smtp}.") from None
        return mailbox

    def _today(self, mailbox: Mailbox) -> date:
        return self.store.clock.now().astimezone(ZoneInfo(mailbox.time_zone)).date()

    @staticmethod
    def _link(path: str, mailbox: Mailbox, account: Account, **params: str) -> str:
        if mailbox.smtp != (account.smtp or "").lower():
            params["mailbox"] = mailbox.smtp
        return "/owa" + path + (("?" + urlencode(params)) if params else "")

    # ------------------------------------------------------------------ week view
    def _week(
        self, environ: dict[str, Any], account: Account, mailbox: Mailbox, when: str
    ) -> Reply:
        zone = ZoneInfo(mailbox.time_zone)
        try:
            day = date.fromisoformat(when) if when else self._today(mailbox)
        except ValueError:
            raise PageError("400 Bad Request", "Give the date as YYYY-MM-DD.") from None
        # The week around the day, with a day's margin, must stay inside the range.
        if not date_in_range(day, margin_days=8):
            raise PageError("400 Bad Request", f"Give a date from {RANGE_TEXT}.")
        monday = day - timedelta(days=day.weekday())
        calendar = self.store.distinguished_folder("calendar", mailbox.smtp)
        week_start = day_bounds(monday, zone)[0]
        week_end = day_bounds(monday + timedelta(days=6), zone)[1]
        rows = self.store.calendar_view(calendar, week_start, week_end)
        heads, cells = [], []
        for offset in range(7):
            current = monday + timedelta(days=offset)
            lo, hi = day_bounds(current, zone)
            heads.append(
                f'<th scope="col" id="day-{current.isoformat()}">'
                f"{esc(current.strftime('%A %d %B %Y'))}</th>"
            )
            items = [
                self._entry(r, zone, mailbox, account)
                for r in rows
                if r.start < hi and (r.end > lo or r.start >= lo)
            ]
            cells.append(f'<td><ul class="day">{"".join(items)}</ul></td>')
        previous = self._link("/", mailbox, account, date=(monday - timedelta(days=7)).isoformat())
        following = self._link("/", mailbox, account, date=(monday + timedelta(days=7)).isoformat())
        new = self._link("/appointment/new", mailbox, account, date=day.isoformat())
        body = (
            f'<h2 id="week-title">Calendar of {esc(mailbox.display_name)}: week of '
            f"{esc(monday.strftime('%d %B %Y'))} ({esc(mailbox.time_zone)})</h2>"
            f'<nav><a id="previous-week" href="{esc(previous)}">Previous week</a> · '
            f'<a id="next-week" href="{esc(following)}">Next week</a> · '
            f'<a id="new-appointment" href="{esc(new)}">New appointment</a></nav>'
            f'<table id="week"><thead><tr>{"".join(heads)}</tr></thead>'
            f"<tbody><tr>{''.join(cells)}</tr></tbody></table>"
        )
        return page("Calendar - Outlook Web Access", body, user=account.upn)

    def _entry(self, row: Occurrence, zone: ZoneInfo, mailbox: Mailbox, account: Account) -> str:
        if row.all_day:
            when = "All day"
        else:
            when = f"{row.start.astimezone(zone):%H:%M}–{row.end.astimezone(zone):%H:%M}"
        link = self._link("/appointment/edit", mailbox, account, id=row.id)
        series = ""
        if row.is_recurring:
            whole = self._link("/appointment/edit", mailbox, account, id=row.master.id)
            series = f' <a class="series" href="{esc(whole)}">(edit series)</a>'
        return (
            f'<li class="appointment" data-id="{esc(row.id)}"><a href="{esc(link)}">'
            f'<span class="time">{esc(when)}</span> <span class="subject">{esc(row.subject)}</span>'
            f"</a>{series}</li>"
        )

    # ------------------------------------------------------------------ forms
    def _edit(
        self, environ: dict[str, Any], account: Account, mailbox: Mailbox, item_id: str
    ) -> Reply:
        target = self._own_item(mailbox, item_id)
        zone = ZoneInfo(mailbox.time_zone)
        return self._form(
            environ, account, mailbox, forms.AppointmentForm.from_item(target, zone), target
        )

    def _own_item(self, mailbox: Mailbox, item_id: str) -> CalendarItem | Occurrence:
        try:
            target = self.store.item(item_id)
        except StoreError:
            raise PageError("404 Not Found", "The appointment no longer exists.") from None
        if (
            not isinstance(target, (CalendarItem, Occurrence))
            or self.store.owner_of(target) != mailbox.smtp
        ):
            raise PageError("404 Not Found", "The appointment no longer exists.")
        return target

    def _form(
        self,
        environ: dict[str, Any],
        account: Account,
        mailbox: Mailbox,
        values: forms.AppointmentForm,
        target: CalendarItem | Occurrence | None,
        error: forms.FormError | None = None,
    ) -> Reply:
        occurrence = isinstance(target, Occurrence)
        title = "Edit appointment" if target is not None else "New appointment"
        notice = (
            f'<p class="error" id="form-error" role="alert">{esc(error.message)}</p>'
            if error
            else ""
        )
        days = "".join(
            checkbox("days", d, d in values.days, value=d, ident=f"day-{d.lower()}") + " "
            for d in forms.WEEKDAYS
        )
        recurrence = (
            ""
            if occurrence
            else (
                "<fieldset><legend>Recurrence</legend><p>"
                + checkbox("recurs", "Repeat weekly", values.recurs)
                + f"</p><p>{days}</p>"
                + field("count", "End after (occurrences)", values.count, hint="10")
                + field("until", "End by (date)", values.until, hint="YYYY-MM-DD")
                + "</fieldset>"
            )
        )
        canary = self.canary(environ, account)
        body = (
            f'<h2 id="form-title">{esc(title)}</h2>{notice}'
            '<form id="appointment" method="POST" action="/owa/appointment/save">'
            + hidden("hidcanary", canary)
            + hidden("mailbox", mailbox.smtp)
            + hidden("id", target.id if target is not None else "")
            + field("subject", "Subject", values.subject)
            + field("location", "Location", values.location)
            + field("start_date", "Start date", values.start_date, hint="YYYY-MM-DD")
            + field("start_time", "Start time", values.start_time, hint="HH:MM")
            + field("end_date", "End date", values.end_date, hint="YYYY-MM-DD")
            + field("end_time", "End time", values.end_time, hint="HH:MM")
            + "<p>"
            + checkbox("all_day", "All day event", values.all_day)
            + "</p>"
            + select("busy_status", "Show time as", forms.BUSY_CHOICES, values.busy_status)
            + recurrence
            + '<p><input type="submit" id="save" value="Save"></p></form>'
        )
        if target is not None:
            body += (
                '<form id="delete-form" method="POST" action="/owa/appointment/delete">'
                + hidden("hidcanary", canary)
                + hidden("mailbox", mailbox.smtp)
                + hidden("id", target.id)
                + '<p><input type="submit" id="delete" value="'
                + ("Delete this occurrence" if occurrence else "Delete")
                + '"></p></form>'
            )
        status = "400 Bad Request" if error else "200 OK"
        return page(f"{title} - Outlook Web Access", body, user=account.upn, status=status)

    def _save(
        self,
        environ: dict[str, Any],
        account: Account,
        mailbox: Mailbox,
        form: dict[str, list[str]],
    ) -> Reply:
        values = forms.AppointmentForm.from_fields(form)
        item_id = first(form, "id")
        target = self._own_item(mailbox, item_id) if item_id else None
        zone = ZoneInfo(mailbox.time_zone)
        try:
            appt = forms.read(values, zone, with_recurrence=not isinstance(target, Occurrence))
            self._store(mailbox, target, appt)
        except forms.FormError as exc:
            return self._form(environ, account, mailbox, values, target, exc)
        except StoreError as exc:
            error = forms.FormError("subject", exc.message)
            return self._form(environ, account, mailbox, values, target, error)
        day = appt.start.astimezone(zone).date().isoformat()
        return redirect(self._link("/", mailbox, account, date=day))

    def _store(
        self, mailbox: Mailbox, target: CalendarItem | Occurrence | None, appt: forms.Appointment
    ) -> None:
        changes: dict[str, Any] = {
            "subject": appt.subject,
            "location": appt.location,
            "start": appt.start,
            "end": appt.end,
            "busy_status": appt.busy_status,
        }
        if isinstance(target, Occurrence):
            self.store.update_item(target.id, **changes)
            return
        changes.update(all_day=appt.all_day, recurrence=appt.recurrence)
        if target is None:
            calendar = self.store.distinguished_folder("calendar", mailbox.smtp)
            subject = changes.pop("subject")
            start, end = changes.pop("start"), changes.pop("end")
            self.store.create_calendar_item(
                calendar,
                subject=subject,
                start=start,
                end=end,
                time_zone=mailbox.time_zone,
                **changes,
            )
        else:
            self.store.update_item(target.id, **changes)

    def _delete(self, account: Account, mailbox: Mailbox, item_id: str) -> Reply:
        target = self._own_item(mailbox, item_id)
        day = target.start.astimezone(ZoneInfo(mailbox.time_zone)).date().isoformat()
        self.store.delete_item(target.id)
        return redirect(self._link("/", mailbox, account, date=day))


__all__ = ["OwaCalendar"]
