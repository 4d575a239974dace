"""`loudou createuser`."""

import pytest
from django.core.management import CommandError, call_command

from loudou.people.models import Team, User

pytestmark = pytest.mark.django_db


def test_create_manager_creates_the_team():
    call_command(
        "createuser", "li", "--role", "manager", "--team", "华南", "--password", "s3cret-pw!"
    )
    user = User.objects.get(username="li")
    assert user.role == "manager"
    assert user.check_password("s3cret-pw!")
    assert Team.objects.get(name="华南").manager == user


def test_rep_joins_an_existing_team_only():
    Team.objects.create(name="North")
    call_command("createuser", "wang", "--team", "North", "--password", "s3cret-pw!")
    assert User.objects.get(username="wang").team.name == "North"
    with pytest.raises(CommandError, match="No team named"):
        call_command("createuser", "zhao", "--team", "Nowhere", "--password", "s3cret-pw!")
    assert not User.objects.filter(username="zhao").exists()


def test_admin_gets_the_django_admin():
    call_command("createuser", "root", "--role", "admin", "--password", "s3cret-pw!")
    user = User.objects.get(username="root")
    assert user.is_superuser and user.is_staff and user.is_loudou_admin


def test_errors_are_messages():
    call_command("createuser", "dup", "--password", "s3cret-pw!")
    with pytest.raises(CommandError, match="exists already"):
        call_command("createuser", "dup", "--password", "s3cret-pw!")
    with pytest.raises(CommandError):
        call_command("createuser", "weak", "--password", "123")
