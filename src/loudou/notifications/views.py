"""The notifications page: a team's chat channels, set by admins and the team's manager,
with the latest deliveries and their attempts. The work is in ``services``."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from loudou.core.errors import InvalidInput, ServiceError
from loudou.core.views import require_post
from loudou.people.access import Scope
from loudou.people.models import Team

from . import services
from .models import Channel, ChannelKind, Delivery, Language
from .platforms import mask

RECENT = 30


class ChannelForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Platform"), choices=ChannelKind.choices)
    address = forms.CharField(
        label=gettext_lazy("Webhook key, token or URL"), max_length=500, required=False
    )
    secret = forms.CharField(
        label=gettext_lazy("Signing secret"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=Language.choices)
    quiet_start = forms.TimeField(
        label=gettext_lazy("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=gettext_lazy("Quiet hours until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    send_digest = forms.BooleanField(label=gettext_lazy("Daily digest"), required=False)
    send_weekly = forms.BooleanField(label=gettext_lazy("Weekly diagnosis"), required=False)
    send_approvals = forms.BooleanField(label=gettext_lazy("Approval requests"), required=False)
    send_won = forms.BooleanField(label=gettext_lazy("Won deals"), required=False)
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False)

    def __init__(self, *args: Any, channel: Channel | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if channel is not None:
            # Stored keys and secrets are never shown back: blank keeps them.
            keep = _("Stored: %(masked)s. Leave blank to keep it.")
            self.fields["address"].help_text = keep % {"masked": mask(channel.address)}
            self.fields["secret"].help_text = (
                keep % {"masked": mask(channel.secret)} if channel.secret else ""
            )
        else:
            self.fields["address"].required = True
        self.fields["secret"].help_text = self.fields["secret"].help_text or _(
            "钉钉: the 加签 secret (SEC…); 飞书: the signature secret; webhook: any long "
            "random text, to check the X-Loudou-Signature header."
        )


def _managed_teams(request: HttpRequest) -> list[Team]:
    scope = Scope.of(request.user)
    if not scope.may_override:
        raise PermissionDenied(_("Only managers and administrators can set notifications."))
    return [t for t in Team.objects.all() if scope.may_manage_team(t)]


def _team(request: HttpRequest, team_id: int) -> Team:
    _managed_teams(request)
    team = Team.objects.filter(pk=team_id).first()
    if team is None or not Scope.of(request.user).may_manage_team(team):
        raise Http404(_("No such team, or it is not yours to set."))
    return team


def _channel(request: HttpRequest, pk: int) -> Channel:
    channel = Channel.objects.select_related("team").filter(pk=pk).first()
    if channel is None:
        _managed_teams(request)
        raise Http404(_("No such channel."))
    _team(request, channel.team_id)
    return channel


@login_required
def notifications_view(request: HttpRequest) -> HttpResponse:
    """The teams this user sets notifications for, their channels and latest deliveries."""
    teams = _managed_teams(request)
    channels = list(Channel.objects.filter(team__in=teams).select_related("team"))
    recent = list(
        Delivery.objects.filter(channel__in=channels)
        .defer("payload")  # up to 256 KB each, not shown here
        .select_related("channel")
        .prefetch_related("log")[:RECENT]
    )
    for channel in channels:
        channel.masked = mask(channel.address)
    return render(
        request,
        "notifications/index.html",
        {
            "teams": [
                {"team": t, "channels": [c for c in channels if c.team_id == t.pk]} for t in teams
            ],
            "recent": recent,
        },
    )


def _save(request: HttpRequest, team: Team, channel: Channel | None) -> HttpResponse:
    initial = (
        {
            "name": channel.name,
            "kind": channel.kind,
            "language": channel.language,
            "quiet_start": channel.quiet_start,
            "quiet_end": channel.quiet_end,
            "send_digest": channel.send_digest,
            "send_weekly": channel.send_weekly,
            "send_approvals": channel.send_approvals,
            "send_won": channel.send_won,
            "active": channel.active,
        }
        if channel
        else {
            "language": request.LANGUAGE_CODE
            if request.LANGUAGE_CODE in Language.values
            else "zh-hans",
            "send_digest": True,
            "send_weekly": True,
            "send_approvals": True,
            "send_won": True,
            "active": True,
        }
    )
    form = ChannelForm(request.POST or None, initial=initial, channel=channel)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_channel(
                actor=request.user, team=team, channel=channel, **form.cleaned_data
            )
        except InvalidInput as error:
            for field, message in error.errors.items():
                form.add_error(field if field in form.fields else None, str(message))
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Channel saved."))
            return redirect("notifications")
    return render(
        request, "notifications/channel.html", {"form": form, "team": team, "channel": channel}
    )


@login_required
def channel_create(request: HttpRequest, team_id: int) -> HttpResponse:
    return _save(request, _team(request, team_id), None)


@login_required
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    return _save(request, channel.team, channel)


@login_required
@require_post
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.delete_channel(actor=request.user, channel=_channel(request, pk))
    messages.success(request, _("Channel removed."))
    return redirect("notifications")


@login_required
@require_post
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    services.send_test(actor=request.user, channel=_channel(request, pk))
    messages.success(request, _("Test message queued; its attempts appear below."))
    return redirect("notifications")
