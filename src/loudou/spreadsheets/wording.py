"""How an import's messages tell the user to give an option: on the command line by its
flag (``--create-owners``), on the web by the control's label as the page shows it, in
each language (the same msgids as the templates, so that the words match the page).

Messages are kept in both languages (``results.RowError``): the page shows the reader's,
the errors file the importer's."""

from typing import Literal

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Via = Literal["cli", "web"]

# The controls of the import page (views.UploadForm) and of a migration's preview
# (_migration.html), by their labels.
CREATE_OWNERS = _("Create unknown owners and teams (administrators)")
COLUMNS = _("Columns")
LEAVE_OUT = _("Leave out “%(header)s” (it looks like a stage, owner, date or amount)")
OWNERS = _("Owners")
LOUDOU_USER = _("Loudou user")
LOUDOU_STAGE = _("Loudou stage")
MAP_ONTO = _("Map onto the pipeline")
MIRROR = _("Create a pipeline with the source's stages, order and probabilities, named")
SOURCE_PIPELINE = _("The export holds several pipelines; migrate this one:")
FIX_DATES = _("Apply the proposed date fixes")
CHECK_AGAIN = _("Check again with these choices")


def label(control: Promise, **values: str) -> tuple[str, str]:
    """A control's label in zh-Hans and in English."""
    texts = []
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            text = str(control)
            texts.append(text % values if values else text)
    return texts[0], texts[1]
