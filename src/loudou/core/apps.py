from django.apps import AppConfig
from django.utils.translation import gettext_noop

# Django ends form labels with gettext(":") (Form.label_suffix), which its own zh-Hans
# catalogue leaves as the ASCII colon. Named here so that this project's catalogue, read
# before Django's, gives zh-Hans forms the full-width "：" (类型：, 时间：).
LABEL_SUFFIX = gettext_noop(":")


class CoreConfig(AppConfig):
    name = "loudou.core"
    label = "core"
