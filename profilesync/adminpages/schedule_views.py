"""Scheduled jobs (System Administrators): cron schedule, next due times, run now."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from profilesync.accounts.permissions import RUN_SYNC
from profilesync.errors import InvalidSetting
from profilesync.scheduling.clock import database_now
from profilesync.scheduling.cron import EXAMPLE, parse
from profilesync.scheduling.jobs import BULK_PROFILE_UPDATE, JOBS, LDAP_RECONCILIATION, Job
from profilesync.scheduling.schedules import local_zone, next_due_times, schedule_of, set_schedule
from profilesync.sync.models import SyncMode, SyncRun

from .access import admin_page

NEXT_COUNT = 5


class ScheduleForm(forms.Form):
    cron = forms.CharField(
        max_length=200, label="Schedule (cron)",
        help_text=f'Five fields "minute hour day-of-month month day-of-week", e.g. {EXAMPLE}, '
        "or @hourly, @daily, @weekly.")

    def clean_cron(self) -> str:
        try:
            return parse(self.cleaned_data["cron"]).expr
        except InvalidSetting as exc:
            raise forms.ValidationError(exc.message) from None


@dataclass
class JobPanel:
    job: Job
    form: ScheduleForm
    next_times: list
    last_run: SyncRun | None
    reports_runs: bool


def _panel(job: Job, form: ScheduleForm | None = None) -> JobPanel:
    schedule = schedule_of(job)
    last_run = None  # only the sync jobs leave a run in the sync report
    if job == BULK_PROFILE_UPDATE:
        last_run = SyncRun.objects.exclude(mode=SyncMode.RECONCILIATION).first()
    elif job == LDAP_RECONCILIATION:
        last_run = SyncRun.objects.filter(mode=SyncMode.RECONCILIATION).first()
    return JobPanel(job=job,
                    form=form or ScheduleForm(initial={"cron": schedule.cron}, prefix=job.name),
                    next_times=next_due_times(parse(schedule.cron), database_now(), NEXT_COUNT),
                    last_run=last_run, reports_runs=job in (BULK_PROFILE_UPDATE,
                                                            LDAP_RECONCILIATION))


def _job(name: str) -> Job:
    if name not in JOBS:
        raise Http404("no such job")
    return JOBS[name]


def _page(request: HttpRequest, bound: dict | None = None) -> HttpResponse:
    bound = bound or {}
    panels = [_panel(job, bound.get(job.name)) for job in JOBS.values()]
    return render(request, "adminpages/schedule.html",
                  {"panels": panels, "time_zone": str(local_zone())})


@admin_page(RUN_SYNC)
def schedule_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@admin_page(RUN_SYNC)
@require_POST
def schedule_save(request: HttpRequest, name: str) -> HttpResponse:
    job = _job(name)
    form = ScheduleForm(request.POST, prefix=job.name)
    if form.is_valid():
        try:
            schedule = set_schedule(job, form.cleaned_data["cron"])
        except InvalidSetting as exc:
            form.add_error("cron", exc.message)
        else:
            messages.success(request, f"{job.title}: schedule set to {schedule.cron}.")
            return redirect("admin-schedule")
    return _page(request, {job.name: form})


@admin_page(RUN_SYNC)
@require_POST
def schedule_run_now(request: HttpRequest, name: str) -> HttpResponse:
    """Queue the job's task for the next free worker, as its schedule would."""
    job = _job(name)
    if job == BULK_PROFILE_UPDATE:
        from profilesync.scheduling.tasks import enqueue_sync

        queued = enqueue_sync(trigger="manual")
    else:
        queued = job.task.enqueue(trigger="manual")
    messages.success(request, f"{job.title} queued (task {queued.id}); a worker starts it "
                     "shortly." + (" Its run shows in the sync report." if job in (
                         BULK_PROFILE_UPDATE, LDAP_RECONCILIATION) else ""))
    return redirect("admin-schedule")
