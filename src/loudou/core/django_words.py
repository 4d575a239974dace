"""Django's own messages that the zh_Hans catalogue shipped with Django does not translate.

Django 5.2 reworded some messages (the too-short password one now formats "%d", no longer
"%(min_length)d") and its zh_Hans catalogue still holds only the old words, so gettext fell
back to English on Chinese pages: an administrator setting a password, a rep choosing one
through a reset link. Our catalogue (LOCALE_PATHS) is read before Django's; these marks
only make `makemessages` keep the messages in it, where they are translated. Nothing
imports this module; ``core.tests.test_i18n`` checks that every message Django's English
auth catalogue has is translated in zh-Hans, so a newer Django's rewording shows up there.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

MARKED = (
    # django.contrib.auth.password_validation.MinimumLengthValidator.get_error_message
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
    ),
    # django.db.models.ForeignKey.validate (a team or user removed meanwhile)
    gettext_noop("%(model)s instance with %(field)s %(value)r is not a valid choice."),
)
