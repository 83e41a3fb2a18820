"""Hooks: how a lower app lets a higher one add to its services without
importing it (the app order is accounts < mentorship < scheduling < reviews).

The lower app declares a hook next to the service that runs it; the higher
app registers a function from its ``AppConfig.ready()``, so the dependency
is written in the higher app, where it points downward. Registered functions
run in order, inside the service's transaction, with the service's keyword
arguments; what they return is returned as a list.

The hooks there are (``grep -rn "Hook(" --include=*.py``):

- ``accounts.services.user_deactivated(user=)``: mentorship stops the
  person's mentor profile taking bookings;
- ``mentorship.services.mentor_created(mentor=)``: scheduling gives a new
  mentor the default session types;
- ``scheduling.rules.no_show_checks(session=)``: reviews refuses a no-show
  for a session its mentee reviewed.
"""

from collections.abc import Callable


class Hook:
    def __init__(self, name: str):
        self.name = name
        self._functions: list[Callable] = []

    def register(self, function: Callable) -> Callable:
        """Add ``function`` (once, however often ``ready()`` runs)."""
        if function not in self._functions:
            self._functions.append(function)
        return function

    @property
    def functions(self) -> tuple[Callable, ...]:
        return tuple(self._functions)

    def run(self, **arguments) -> list:
        return [function(**arguments) for function in self._functions]

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._functions)} registered>"
