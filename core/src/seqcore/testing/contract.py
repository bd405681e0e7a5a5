"""The one error every conformance check raises: which contract is broken, and how to fix it."""

from __future__ import annotations


class ContractError(AssertionError):
    """A component breaks a contract seqcore relies on.

    An ``AssertionError``, so pytest reports it as a test failure; the message reads
    ``<component>: <contract> -- <what was seen>; fix: <how>``.
    """

    def __init__(self, component: str, contract: str, seen: str, fix: str) -> None:
        super().__init__(f"{component}: {contract} -- {seen}; fix: {fix}")
        self.component = component
        self.contract = contract
