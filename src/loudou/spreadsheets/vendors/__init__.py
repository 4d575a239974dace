"""Migrating from another CRM: one module per vendor reads its export into a common model
(``source.Source``); ``migrate.migrate`` checks and loads it through ``deals.bulk``."""

from types import ModuleType


def _vendors() -> dict[str, ModuleType]:
    from . import chinese, hubspot, pipedrive, salesforce, zoho

    return {
        "salesforce": salesforce,
        "hubspot": hubspot,
        "pipedrive": pipedrive,
        "zoho": zoho,
        "chinese": chinese,
    }


class _Registry(dict):
    def _load(self) -> None:
        if not self:
            self.update(_vendors())

    def get(self, key: str, default: object = None) -> object:
        self._load()
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._load()
        return super().__contains__(key)


VENDORS: dict[str, ModuleType] = _Registry()
NAMES = ("salesforce", "hubspot", "pipedrive", "zoho", "chinese")
